"""Chat server with an 8-byte binary length, BLOCK and broadcast extras, and an EXIT that
kills it.

Behaviours shown:
- bin8 framing both ways: struct.pack(">Q", len(text)) then the text; recv(8) for the header,
  one recv(n) for the payload (a short read is used as it is).
- NAME -> "HELLO Alice"; a taken name -> "ERR name taken".
- GET_NAMES -> "Alice, Bob" sorted alphabetically (the only sorted list in the zoo).
- MSG -> "Alice SENT: HELLO"; a message to yourself is delivered.
- extras: "BLOCK <name>" -> "BLOCKED <name>" (later messages from that name get
  "ERR <you> blocked you"); "MSG * <text>" broadcasts to everyone else.
- unknown command -> "ERR unknown command"; missing recipient -> "ERR no user Nobody".
- EXIT -> "BYE", then the socket is closed but left in the select() list, so the next
  select() raises "ValueError: file descriptor cannot be a negative integer (-1)" and the
  whole server dies. Every EXIT, every time.
- a payload that is not UTF-8 drops that client.

Usage: python3 07_bin8_exitcrash.py PORT
"""
import select
import socket
import struct
import sys


def send_frame(sock, text):
    sock.send(struct.pack(">Q", len(text)) + text.encode())


def recv_frame(sock):
    head = sock.recv(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return sock.recv(size).decode()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(8)
print("listening on", sys.argv[1], flush=True)

sockets = [server]
users = {}      # sock -> name
blocked = {}    # sock -> set of names this user does not want to hear from

while True:
    r, _, _ = select.select(sockets, [], [])
    for sock in r:
        if sock is server:
            client, _ = server.accept()
            sockets.append(client)
            blocked[client] = set()
            continue
        try:
            line = recv_frame(sock)
        except (UnicodeDecodeError, ConnectionResetError):
            line = None
        if line is None:
            sockets.remove(sock)
            users.pop(sock, None)
            sock.close()
            continue
        words = line.split(" ", 2)
        me = users.get(sock)
        if words[0] == "NAME" and len(words) == 2:
            if words[1] in users.values():
                send_frame(sock, "ERR name taken")
            else:
                users[sock] = words[1]
                send_frame(sock, "HELLO " + words[1])
        elif words[0] == "GET_NAMES":
            send_frame(sock, ", ".join(sorted(users.values())))
        elif words[0] == "MSG" and len(words) == 3:
            if words[1] == "*":
                for other in users:
                    if other is not sock and me not in blocked[other]:
                        send_frame(other, f"{me} SENT: {words[2]}")
                continue
            dest = [s for s, n in users.items() if n == words[1]]
            if not dest:
                send_frame(sock, "ERR no user " + words[1])
            elif me in blocked[dest[0]]:
                send_frame(sock, f"ERR {words[1]} blocked you")
            else:
                send_frame(dest[0], f"{me} SENT: {words[2]}")
        elif words[0] == "BLOCK" and len(words) == 2:
            blocked[sock].add(words[1])
            send_frame(sock, "BLOCKED " + words[1])
        elif words[0] == "EXIT":
            send_frame(sock, "BYE")
            users.pop(sock, None)
            sock.close()
        else:
            send_frame(sock, "ERR unknown command")
