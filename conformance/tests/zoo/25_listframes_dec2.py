"""Chat server whose replies all end in a newline (counted in the length) and whose names
list comes as one frame per line.

Behaviours shown:
- dec2 framing both ways: recv(2) for the header, then a single recv(n) for the payload
  (a short read is used as it is). Every reply is built as
  "{:02d}{}".format(len(text + "\\n"), text + "\\n"): the "\\n" is part of the payload and
  is counted in the length ("12Hello Alice\\n"). Incoming payloads are strip()ped.
- NAME -> "Hello Alice\\n"; a taken name -> "Sorry, Alice is in use\\n".
- GET_NAMES -> several frames, one send() each: "Connected users:\\n", then one frame per
  name in registration order ("Alice\\n", "Bob\\n"). With nobody named only the first frame.
- MSG -> the recipient gets "Alice: HELLO\\n"; no acknowledgement to the sender. A message to
  yourself is delivered like any other.
- missing recipient -> "No such user: Nobody\\n"; unknown command, or NAME/MSG with too few
  words -> "Invalid command\\n".
- EXIT is silent: the name is forgotten, the socket is removed from the list and closed.
- mistakes the rubric never exercises:
  * MSG before NAME looks up the sender with names[sock]: KeyError, the whole server dies
    (even when the recipient does not exist).
  * the reply length is "{:02d}", so a reply of 100 characters or more goes out with a
    3-digit length and breaks the receiving client's framing. Only long names get there
    (a command is at most 99 characters): "Hello " + a 93-letter name + "\\n" is sent as
    "100Hello MMM...", and a 60-letter sender's 40-character message is delivered as
    "103LLL...: zzz...\\n".
  * a length field that is not digits (int() raises ValueError, e.g. a bin4 header
    "\\x00\\x00...") and a payload that is not UTF-8 (UnicodeDecodeError) kill the whole
    server; only ConnectionResetError is caught. A dec4 header "0010NAME Alice" is read as
    an empty frame ("Invalid command\\n") then "10NAME Alice" ("Hello Alice\\n").
  * a header of which only the first byte arrives ("1", then nothing) blocks the whole
    server: recv(2) returns "1" and recv(1) then waits. (A half frame that holds the whole
    header, like "17MSG Ali", is answered at once: "Invalid command\\n".)
  * replies count characters, not bytes: a non-ASCII name gets a length that is too short.
  * replies are sent straight away with send() and nothing around the command handling
    catches an error, so a client that goes away right after a command kills the server:
    - a plain close right after GET_NAMES while at least one name is listed (several
      frames): the first send reaches the departed peer, which answers with a reset, and
      the next send raises BrokenPipeError (every time when the client sends and closes
      at once; 30/30 tries). A plain close after a one-frame reply is harmless.
    - a reset (SO_LINGER 0) right after any command that gets a reply (NAME, GET_NAMES,
      DANCE, a MSG to yourself): ConnectionResetError from send(). EXIT gets no reply,
      so closing or resetting right after EXIT is harmless.
    A client that connects and leaves without a word, or closes while idle, is removed fine.

Usage: python3 25_listframes_dec2.py PORT
"""
import select
import socket
import sys

LENGTH_FIELD_SIZE = 2


# ---------------- protocol (was protocol.py) ----------------
def create_msg(text):
    data = text + "\n"
    return "{:02d}{}".format(len(data), data)


def get_msg(my_socket):
    """returns (valid, message). valid is False when the client is gone"""
    length = my_socket.recv(LENGTH_FIELD_SIZE).decode()
    if length == "":
        return False, ""
    data = my_socket.recv(int(length)).decode()
    return True, data.strip()
# ------------------------------------------------------------


def send(sock, text):
    sock.send(create_msg(text).encode())


def find_socket(names, name):
    for sock in names:
        if names[sock] == name:
            return sock
    return None


def handle_command(current_socket, data, client_sockets, names):
    parts = data.split(" ", 2)
    cmd = parts[0]
    if cmd == "NAME":
        if len(parts) < 2:
            send(current_socket, "Invalid command")
            return
        name = parts[1]
        if name in names.values():
            send(current_socket, "Sorry, " + name + " is in use")
        else:
            names[current_socket] = name
            send(current_socket, "Hello " + name)
    elif cmd == "GET_NAMES":
        send(current_socket, "Connected users:")
        for name in names.values():
            send(current_socket, name)
    elif cmd == "MSG":
        if len(parts) < 3:
            send(current_socket, "Invalid command")
            return
        sender = names[current_socket]
        target = find_socket(names, parts[1])
        if target is None:
            send(current_socket, "No such user: " + parts[1])
        else:
            send(target, sender + ": " + parts[2])
    elif cmd == "EXIT":
        print(names.get(current_socket), "exited")
        if current_socket in names:
            del names[current_socket]
        client_sockets.remove(current_socket)
        current_socket.close()
    else:
        send(current_socket, "Invalid command")


def main():
    port = int(sys.argv[1])
    server_socket = socket.socket()
    server_socket.bind(("127.0.0.1", port))
    server_socket.listen()
    print("Server is up on port", port)
    client_sockets = []
    names = {}  # socket -> name

    while True:
        rlist, wlist, xlist = select.select([server_socket] + client_sockets, [], [])
        for current_socket in rlist:
            if current_socket is server_socket:
                connection, address = server_socket.accept()
                print("New client joined!", address)
                client_sockets.append(connection)
                continue
            try:
                valid, data = get_msg(current_socket)
            except ConnectionResetError:
                valid, data = False, ""
            if not valid:
                print("Connection closed", names.get(current_socket))
                client_sockets.remove(current_socket)
                if current_socket in names:
                    del names[current_socket]
                current_socket.close()
                continue
            print("got:", data)
            handle_command(current_socket, data, client_sockets, names)


main()
