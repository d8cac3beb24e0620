"""Chat server that accepts connections, reads every command, and never answers anything.

Behaviours shown:
- accepts any number of clients and reads dec2 frames (recv(2) header, recv(n) payload).
- works out every reply (names, deliveries, errors) but print()s it on the server's own
  console instead of sending it: nothing is ever written to any client. A student who
  tested only by watching the server window.
- a closed connection is removed; bad input (non-digit length, invalid UTF-8) drops that
  client. It never crashes.

Usage: python3 18_mute_dec2.py PORT
"""
import select
import socket
import sys

PORT = int(sys.argv[1])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", PORT))
srv.listen(5)
print("Server is up on port", PORT, flush=True)

clients = [srv]
names = {}


def reply(sock, text):
    frame = str(len(text)).zfill(2) + text
    print("to", names.get(sock, "?"), ":", frame, flush=True)


while True:
    readable, _, _ = select.select(clients, [], [])
    for sock in readable:
        if sock is srv:
            c, _ = srv.accept()
            clients.append(c)
            continue
        try:
            head = sock.recv(2)
            body = sock.recv(int(head)).decode() if head else None
        except (ValueError, ConnectionResetError):
            body = None
        if body is None:
            clients.remove(sock)
            names.pop(sock, None)
            sock.close()
            continue
        cmd, _, arg = body.partition(" ")
        if cmd == "NAME":
            if arg in names.values():
                reply(sock, "Name taken")
            else:
                names[sock] = arg
                reply(sock, "HELLO " + arg)
        elif cmd == "GET_NAMES":
            reply(sock, " ".join(names.values()))
        elif cmd == "MSG":
            to, _, msg = arg.partition(" ")
            for other, n in names.items():
                if n == to:
                    reply(other, names.get(sock, "") + " SENT " + msg)
                    break
            else:
                reply(sock, "No such user")
        elif cmd == "EXIT":
            reply(sock, "BYE")
        else:
            reply(sock, "Unknown command")
