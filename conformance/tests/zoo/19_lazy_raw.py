"""Quick unframed chat server: case-insensitive verbs, no duplicate check, and silence
whenever a message cannot go anywhere.

Behaviours shown:
- no framing: one recv(1024) is one command; replies are sent raw.
- verbs are case-insensitive ("name Alice", "get_names", "Msg ..." all work).
- NAME -> "HELLO Alice!". There is no duplicate check: a second "NAME Alice" is greeted
  like the first and both connections are called Alice.
- GET_NAMES -> "Alice Bob" (registration order).
- MSG -> "Alice: HELLO" to every other connection with that name. A message to yourself
  or to a name nobody has gets no reply at all; MSG before NAME is ignored.
- unknown command -> "Unknown command!".
- EXIT is silent: the name is forgotten and the connection closed.
- input that is not UTF-8 crashes the whole server.

Usage: python3 19_lazy_raw.py PORT
"""
import select
import socket
import sys

server = socket.socket()
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(5)
conns = [server]
users = {}

while True:
    rlist, _, _ = select.select(conns, [], [])
    for sock in rlist:
        if sock is server:
            conns.append(server.accept()[0])
            continue
        try:
            raw = sock.recv(1024)
        except ConnectionResetError:
            raw = b""
        if not raw:
            conns.remove(sock)
            users.pop(sock, None)
            sock.close()
            continue
        line = raw.decode().strip()
        parts = line.split(" ", 2)
        cmd = parts[0].upper()
        if cmd == "NAME" and len(parts) > 1:
            users[sock] = parts[1]
            sock.send(("HELLO " + parts[1] + "!").encode())
        elif cmd == "GET_NAMES":
            sock.send(" ".join(users.values()).encode())
        elif cmd == "MSG" and len(parts) == 3:
            if sock in users:
                for s, n in users.items():
                    if n == parts[1] and s is not sock:
                        s.send((users[sock] + ": " + parts[2]).encode())
        elif cmd == "EXIT":
            conns.remove(sock)
            users.pop(sock, None)
            sock.close()
        else:
            sock.send(b"Unknown command!")
