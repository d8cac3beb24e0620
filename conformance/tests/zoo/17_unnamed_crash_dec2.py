"""Chat server that takes one frame per recv(1024), delivers only the first word, and dies
when a client without a name disconnects.

Behaviours shown:
- dec2 framing both ways, but the input side reads recv(1024) and parses one frame from the
  start of it: the rest of that recv() is lost (two frames in one write get one reply), and
  a header that arrives alone is an empty command after which the payload is read as a
  header ("NA" -> int() raises ValueError, which kills the whole server).
- when a connection closes, the cleanup does names.pop(sock): KeyError for a connection
  that never got a name, so any unnamed client that disconnects (one that connects and
  leaves, one whose NAME was refused, ...) crashes the whole server, every time.
- NAME -> "Hello Alice"; a taken name -> "ERROR: Alice is taken".
- GET_NAMES -> "NAMES Alice, Bob" (registration order).
- MSG splits on single spaces and sends field 3 only: "MSG Bob carry on" delivers
  "Alice: carry". A message to yourself is delivered.
- unknown command -> "ERROR: Unknown command DANCE"; missing recipient -> "ERROR: Nobody is offline".
- EXIT -> "BYE", the name is forgotten and the connection closed (no crash: it never
  reaches the cleanup above).
- a non-digit length field and a payload that is not UTF-8 crash the whole server.

Usage: python3 17_unnamed_crash_dec2.py PORT
"""
import select
import socket
import sys

sock_server = socket.socket()
sock_server.bind(("127.0.0.1", int(sys.argv[1])))
sock_server.listen(5)
print("listening on", sys.argv[1], flush=True)
socks = [sock_server]
names = {}


def send(s, m):
    s.send(("%02d" % len(m) + m).encode())


while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        if s == sock_server:
            conn, addr = sock_server.accept()
            socks.append(conn)
            print("connected", addr, flush=True)
            continue
        try:
            data = s.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            gone = names.pop(s)
            print(gone, "disconnected", flush=True)
            socks.remove(s)
            s.close()
            continue
        n = int(data[:2])
        text = data[2:2 + n].decode()
        parts = text.split(" ")
        if parts[0] == "NAME" and len(parts) == 2:
            if parts[1] in names.values():
                send(s, "ERROR: " + parts[1] + " is taken")
            else:
                names[s] = parts[1]
                send(s, "Hello " + parts[1])
        elif parts[0] == "GET_NAMES":
            send(s, "NAMES " + ", ".join(names.values()))
        elif parts[0] == "MSG" and len(parts) >= 3:
            found = [c for c in names if names[c] == parts[1]]
            if found:
                send(found[0], names.get(s, "?") + ": " + parts[2])
            else:
                send(s, "ERROR: " + parts[1] + " is offline")
        elif parts[0] == "EXIT":
            send(s, "BYE")
            del names[s]
            socks.remove(s)
            s.close()
        else:
            send(s, "ERROR: Unknown command " + parts[0])
