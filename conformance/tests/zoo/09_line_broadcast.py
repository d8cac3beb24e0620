"""Chat server without a length field whose replies end in a newline, and whose only answer
to NAME is the names list broadcast to everybody.

Behaviours shown:
- no framing on input: one recv(1024) is one command (stripped); every reply ends with "\\n".
- NAME -> no greeting at all: the server sends "CONNECTED_NAMES Alice Bob\\n" to every named
  client (the new one included). A taken name -> "ERROR name already taken\\n".
- GET_NAMES -> "CONNECTED_NAMES Alice Bob\\n".
- MSG -> "Alice: HELLO\\n"; a message to yourself is delivered.
- unknown command (or a MSG without text) -> "ERROR bad request\\n";
  missing recipient -> "ERROR no client Nobody\\n".
- EXIT -> "BYE\\n", the name is forgotten, the connection closed, and the new list is
  broadcast. A client that just closes is removed the same way.
- input that is not UTF-8 crashes the whole server (data.decode()).

Usage: python3 09_line_broadcast.py PORT
"""
import select
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
print("listening on", sys.argv[1], flush=True)

inputs = [s]
clients = {}


def say(sock, line):
    sock.send((line + "\n").encode())


def broadcast_names():
    line = "CONNECTED_NAMES " + " ".join(clients.values())
    for c in clients:
        say(c, line)


def leave(sock):
    inputs.remove(sock)
    sock.close()
    if clients.pop(sock, None) is not None:
        broadcast_names()


while True:
    readable, _, _ = select.select(inputs, [], [])
    for sock in readable:
        if sock is s:
            conn, addr = s.accept()
            inputs.append(conn)
            continue
        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            leave(sock)
            continue
        msg = data.decode().strip()
        tokens = msg.split(" ", 2)
        if tokens[0] == "NAME" and len(tokens) == 2:
            if tokens[1] in clients.values():
                say(sock, "ERROR name already taken")
            else:
                clients[sock] = tokens[1]
                broadcast_names()
        elif tokens[0] == "GET_NAMES":
            say(sock, "CONNECTED_NAMES " + " ".join(clients.values()))
        elif tokens[0] == "MSG" and len(tokens) == 3:
            for c, n in clients.items():
                if n == tokens[1]:
                    say(c, f"{clients.get(sock)}: {tokens[2]}")
                    break
            else:
                say(sock, "ERROR no client " + tokens[1])
        elif tokens[0] == "EXIT":
            say(sock, "BYE")
            leave(sock)
        else:
            say(sock, "ERROR bad request")
