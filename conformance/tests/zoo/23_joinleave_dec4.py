"""Thread-per-client chat server with 4-digit lengths that announces who joins and who
leaves to everybody else.

Behaviours shown:
- dec4 framing both ways ("0011HELLO Alice"); the length counts characters (len(text)).
- one threading.Thread per accepted socket, each with its own blocking recv loop; the
  shared dict name -> socket is guarded by a threading.Lock. The header is read with one
  recv(4) and the payload with a loop until all of it has arrived. That loop blocks only
  the thread of the client that sent half a frame; everybody else goes on being served.
- NAME -> "HELLO Alice"; a taken name -> "ERROR: Alice is already taken".
  When a client gets its name, every OTHER named client receives an unsolicited frame
  "*** Alice joined the chat" (sent before the HELLO to the new client).
- GET_NAMES -> "Alice, Bob" (registration order; extra words after GET_NAMES ignored).
- MSG -> the recipient gets "Alice SENT HELLO" (whole text); a message to yourself is
  delivered to yourself. No ack to the sender.
- missing recipient -> "ERROR: no user Nobody"; MSG without text -> "ERROR: usage MSG <name>
  <text>"; unknown command -> "ERROR: unknown command DANCE".
- EXIT -> "BYE", the name is forgotten and the connection closed. When a named client leaves
  (EXIT or TCP close) every other named client receives "*** Alice left the chat".
- MSG before NAME is delivered with the sender "None" ("None SENT hi").
- a length field that is not digits drops that client (its name is forgotten, with the
  "left" frame to the others).
- student mistakes the rubric never exercises:
  * the header is assumed to arrive whole: a recv(4) that returns fewer than four bytes
    (a header split across writes, e.g. "00" then "11NAME Carol") is taken as the whole length
    ("00" -> an empty command, answered "ERROR: unknown command "; the rest of the stream
    is then misread as headers, and "11NA" is not a number, so that client is dropped).
  * the payload is decoded outside the try: a payload that is not UTF-8 kills that client's
    thread (traceback on the console) before its clean-up runs. The server keeps serving
    everybody else, but that client never gets another answer, and if it was named its
    name stays in the names list for good (no "left" frame), even after it closes TCP: its
    socket is never closed by the server, and messages to it then vanish without an error.
    (An unnamed client's socket is closed only when Python garbage-collects it.)
- a send that fails (the peer has gone) is printed on the console and otherwise ignored;
  the reader thread finds out on its next recv.

Usage: python3 23_joinleave_dec4.py PORT
"""
import socket
import sys
import threading

HEADER_SIZE = 4

clients = {}                  # name -> socket
clients_lock = threading.Lock()


def send_msg(conn, text):
    data = str(len(text)).zfill(HEADER_SIZE) + text
    try:
        conn.sendall(data.encode())
    except OSError:
        print("could not send to", conn)


def recv_msg(conn, length):
    # keep reading until the whole payload is here
    data = b""
    while len(data) < length:
        chunk = conn.recv(length - len(data))
        if not chunk:
            raise ConnectionResetError("client closed in the middle of a message")
        data += chunk
    return data


def tell_others(me, text):
    # caller holds clients_lock
    for name, sock in clients.items():
        if name != me:
            send_msg(sock, text)


def handle_client(conn, addr):
    my_name = None
    while True:
        try:
            header = conn.recv(HEADER_SIZE)
            if not header:
                break
            length = int(header.decode())
            payload = recv_msg(conn, length)
        except (ConnectionResetError, ValueError):
            break
        text = payload.decode()

        parts = text.split(" ", 2)
        command = parts[0]

        if command == "NAME":
            if len(parts) < 2 or parts[1] == "":
                send_msg(conn, "ERROR: usage NAME <name>")
                continue
            wanted = parts[1]
            with clients_lock:
                if wanted in clients:
                    send_msg(conn, "ERROR: " + wanted + " is already taken")
                    continue
                if my_name is not None:
                    del clients[my_name]
                clients[wanted] = conn
                my_name = wanted
                tell_others(my_name, "*** " + my_name + " joined the chat")
            send_msg(conn, "HELLO " + my_name)

        elif command == "GET_NAMES":
            with clients_lock:
                names = ", ".join(clients.keys())
            send_msg(conn, names)

        elif command == "MSG":
            if len(parts) < 3:
                send_msg(conn, "ERROR: usage MSG <name> <text>")
                continue
            target, body = parts[1], parts[2]
            with clients_lock:
                dest = clients.get(target)
                if dest is None:
                    send_msg(conn, "ERROR: no user " + target)
                else:
                    send_msg(dest, str(my_name) + " SENT " + body)

        elif command == "EXIT":
            send_msg(conn, "BYE")
            break

        else:
            send_msg(conn, "ERROR: unknown command " + command)

    # clean up
    with clients_lock:
        if my_name is not None and clients.get(my_name) is conn:
            del clients[my_name]
            tell_others(my_name, "*** " + my_name + " left the chat")
    conn.close()
    print(addr, "disconnected")


def main():
    port = int(sys.argv[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", port))
    server.listen(5)
    print("Server listening on port", port, flush=True)
    while True:
        conn, addr = server.accept()
        print("new connection from", addr)
        t = threading.Thread(target=handle_client, args=(conn, addr))
        t.start()


if __name__ == "__main__":
    main()
