"""Lower-case dec2 chat server: names are case-insensitive because every name is
stored and shown in lower case (name = name.lower() on NAME; MSG lower-cases the recipient).

Behaviours shown:
- dec2 framing both ways: str(len(msg)).zfill(2) then the payload; recv(1024) appended to a
  per-client buffer, every complete frame handled, half a frame waits without holding anyone.
- NAME Alice -> "Welcome alice!"; NAME ALICE afterwards -> "Error: the name alice is taken";
  a second NAME from a named client -> "Error: you already have a name".
- GET_NAMES -> "Online: alice, bob" (registration order; extra words ignored).
- MSG Bob HELLO (or MSG bob HELLO) -> bob gets "alice says: HELLO"; sender gets the ack
  "Message sent to bob"; to yourself -> "Error: you cannot message yourself";
  missing user -> "Error: no user called nobody"; MSG before NAME -> an error.
- unknown command -> "Error: unknown command DANCE".
- EXIT -> "Goodbye!", then the name is forgotten and the connection closed; a closed or
  reset connection is forgotten the same way. No greeting on connect.
- MISTAKE the rubric never exercises: the length field goes straight into int(), so a
  header that is not two digits (e.g. "hello") raises ValueError and the server dies.
  (Replies of 100+ characters would also get a 3-digit length.)
"""
# Chat server - networks assignment 1
# Protocol: every message is a 2 digit length (zero padded) followed by the text.
# Names are case-insensitive: I store everything in lower case so "Alice" and
# "alice" can't both log in.
#
# Usage: python3 34_lowercase_dec2.py PORT
import select
import socket
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1])

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((HOST, PORT))
server.listen(10)
print("Server started on port", PORT)

sockets_list = [server]
client_names = {}   # socket -> name (lower case)
client_bufs = {}    # socket -> bytes received but not processed yet


def send_msg(sock, msg):
    data = str(len(msg)).zfill(2) + msg
    sock.sendall(data.encode())


def find_socket(name):
    name = name.lower()
    for s, n in client_names.items():
        if n == name:
            return s
    return None


def remove_client(sock):
    if sock in sockets_list:
        sockets_list.remove(sock)
    if sock in client_names:
        print(client_names[sock], "disconnected")
        del client_names[sock]
    if sock in client_bufs:
        del client_bufs[sock]
    sock.close()


def process(sock, text):
    """Handle one command. Returns False if the client should be dropped."""
    words = text.split(" ")
    command = words[0]

    if command == "NAME":
        if len(words) < 2 or words[1] == "":
            send_msg(sock, "Error: usage is NAME <name>")
            return True
        name = words[1].lower()
        if sock in client_names:
            send_msg(sock, "Error: you already have a name")
        elif find_socket(name) is not None:
            send_msg(sock, "Error: the name " + name + " is taken")
        else:
            client_names[sock] = name
            send_msg(sock, "Welcome " + name + "!")

    elif command == "GET_NAMES":
        send_msg(sock, "Online: " + ", ".join(client_names.values()))

    elif command == "MSG":
        if sock not in client_names:
            send_msg(sock, "Error: set your name with NAME first")
            return True
        if len(words) < 3:
            send_msg(sock, "Error: usage is MSG <name> <text>")
            return True
        target = find_socket(words[1])
        if target is None:
            send_msg(sock, "Error: no user called " + words[1].lower())
        elif target is sock:
            send_msg(sock, "Error: you cannot message yourself")
        else:
            body = " ".join(words[2:])
            send_msg(target, client_names[sock] + " says: " + body)
            send_msg(sock, "Message sent to " + client_names[target])

    elif command == "EXIT":
        send_msg(sock, "Goodbye!")
        return False

    else:
        send_msg(sock, "Error: unknown command " + command)
    return True


while True:
    readable, _, _ = select.select(sockets_list, [], [])
    for s in readable:
        if s is server:
            conn, addr = server.accept()
            print("New connection from", addr)
            sockets_list.append(conn)
            client_bufs[conn] = b""
            continue

        try:
            data = s.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            remove_client(s)
            continue

        client_bufs[s] += data
        keep = True
        while keep and len(client_bufs[s]) >= 2:
            buf = client_bufs[s]
            length = int(buf[:2].decode())   # BUG: a non-digit header kills the server
            if len(buf) < 2 + length:
                break  # wait for the rest of the frame
            text = buf[2:2 + length].decode("utf-8", errors="replace")
            client_bufs[s] = buf[2 + length:]
            keep = process(s, text)
        if not keep:
            remove_client(s)
