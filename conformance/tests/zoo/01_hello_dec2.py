"""Chat server that follows the handout closely (a good student's submission).

Behaviours shown (all seen in real submissions):
- dec2 framing both ways: two ASCII digits, zero-padded, then the payload; the length counts
  characters (len(text)). Frames are cut out of a per-client buffer, so half a frame just
  waits for its rest and nobody else is held up.
- NAME -> "HELLO Alice"; a taken name -> "ERROR name taken".
- GET_NAMES -> "Alice Bob" (no prefix, one space, registration order).
- MSG -> the recipient gets "Alice SENT HELLO" (whole text); a message to yourself is
  delivered to yourself.
- unknown command -> "ERROR unknown command"; missing recipient -> "ERROR no such client".
- EXIT -> "BYE", then the name is forgotten and the server closes the connection.
- a length field that is not digits, or a payload that is not UTF-8, drops that client only.

Usage: python3 01_hello_dec2.py PORT
"""
import select
import socket
import sys


def frame(text):
    return (str(len(text)).zfill(2) + text).encode()


port = int(sys.argv[1])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", port))
srv.listen(5)
print("listening on", port, flush=True)

conns = [srv]
names = {}      # socket -> name, in registration order
pending = {}    # socket -> bytes received but not parsed yet


def drop(s):
    conns.remove(s)
    names.pop(s, None)
    pending.pop(s, None)
    s.close()


def find(name):
    for s, n in names.items():
        if n == name:
            return s
    return None


def handle(s, text):
    """Run one command. Returns False when the client is gone."""
    words = text.split(" ", 2)
    cmd = words[0]
    if cmd == "NAME" and len(words) == 2:
        if find(words[1]) is not None:
            s.send(frame("ERROR name taken"))
        else:
            names[s] = words[1]
            s.send(frame("HELLO " + words[1]))
    elif cmd == "GET_NAMES":
        s.send(frame(" ".join(names.values())))
    elif cmd == "MSG" and len(words) == 3:
        dest = find(words[1])
        if dest is None:
            s.send(frame("ERROR no such client"))
        else:
            dest.send(frame(names.get(s, "???") + " SENT " + words[2]))
    elif cmd == "EXIT":
        s.send(frame("BYE"))
        drop(s)
        return False
    else:
        s.send(frame("ERROR unknown command"))
    return True


while True:
    readable, _, _ = select.select(conns, [], [])
    for s in readable:
        if s is srv:
            c, addr = srv.accept()
            conns.append(c)
            pending[c] = b""
            continue
        try:
            data = s.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            drop(s)
            continue
        pending[s] += data
        while len(pending[s]) >= 2:
            buf = pending[s]
            if not buf[:2].isdigit():
                drop(s)
                break
            n = int(buf[:2])
            if len(buf) < 2 + n:
                break
            payload, pending[s] = buf[2:2 + n], buf[2 + n:]
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                drop(s)
                break
            if not handle(s, text):
                break
