"""Strict chat server: nothing works before NAME, and every MSG is acknowledged.

Behaviours shown:
- dec2 framing both ways; recv(2) header, one recv(n) payload.
- every command from a connection that has no name yet, GET_NAMES and EXIT included, gets
  "ERROR You must set a name first".
- NAME -> "HELLO Alice"; a taken name -> "ERROR Name Alice is already used".
- GET_NAMES -> "Alice, Bob" (registration order).
- MSG -> the recipient gets "Alice sent HELLO", then the sender gets "MSG to Bob sent"
  before the server reads anything else; a message to yourself is delivered and
  acknowledged.
- unknown command -> "ERROR Command not recognised";
  missing recipient -> "ERROR User Nobody not found".
- EXIT -> "Goodbye Alice", the name is forgotten and the connection closed.
- a length field that is not digits drops that client; a payload that is not UTF-8 crashes
  the whole server.

Usage: python3 12_must_name_dec2.py PORT
"""
import select
import socket
import sys

PORT = int(sys.argv[1])


def send(c, s):
    c.send(f"{len(s):02}{s}".encode())


serv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
serv.bind(("127.0.0.1", PORT))
serv.listen(5)
print("listening on", PORT, flush=True)
all_socks = [serv]
name_of = {}


def disconnect(c):
    all_socks.remove(c)
    name_of.pop(c, None)
    c.close()


while True:
    rs, _, _ = select.select(all_socks, [], [])
    for c in rs:
        if c is serv:
            all_socks.append(serv.accept()[0])
            continue
        try:
            head = c.recv(2)
        except ConnectionResetError:
            head = b""
        if not head or not head.isdigit():
            disconnect(c)
            continue
        msg = c.recv(int(head)).decode()
        cmd = msg.split(" ", 2)
        if c not in name_of and cmd[0] != "NAME":
            send(c, "ERROR You must set a name first")
        elif cmd[0] == "NAME" and len(cmd) == 2:
            if cmd[1] in name_of.values():
                send(c, f"ERROR Name {cmd[1]} is already used")
            else:
                name_of[c] = cmd[1]
                send(c, f"HELLO {cmd[1]}")
        elif cmd[0] == "GET_NAMES":
            send(c, ", ".join(name_of.values()))
        elif cmd[0] == "MSG" and len(cmd) == 3:
            dest = None
            for sock, n in name_of.items():
                if n == cmd[1]:
                    dest = sock
            if dest is None:
                send(c, f"ERROR User {cmd[1]} not found")
            else:
                send(dest, f"{name_of[c]} sent {cmd[2]}")
                send(c, f"MSG to {cmd[1]} sent")
        elif cmd[0] == "EXIT":
            send(c, f"Goodbye {name_of[c]}")
            disconnect(c)
        else:
            send(c, "ERROR Command not recognised")
