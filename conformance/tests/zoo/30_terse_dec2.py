"""Terse dec2 chat server: NAME is answered with a bare "OK", names are kept in a
name -> socket dict, and frames are cut out of a per-client buffer.

Behaviours shown:
- dec2 framing both ways: two ASCII digits (zero-padded) then the payload; the length
  counts characters. Each recv(1024) is appended to that client's buffer and every complete
  frame in it is handled, so half a frame just waits for the rest without holding anyone up,
  and a header and payload written separately are joined.
- NAME -> "OK" (the name is NOT repeated); a taken name -> "ERROR name in use";
  NAME without a name -> "ERROR usage NAME <name>"; a second NAME renames the client.
- GET_NAMES -> "Alice Bob" (one space, registration order; extra words ignored).
- MSG -> the recipient gets "Alice SENT HELLO" (whole text); a message to yourself is
  delivered to yourself; no acknowledgement to the sender.
- missing recipient -> "ERROR no such user"; MSG without text -> "ERROR usage MSG <name> <text>";
  MSG before NAME -> "ERROR send NAME first".
- unknown command -> "ERROR unknown command".
- EXIT -> "BYE", then the name is forgotten and the connection closed. A client that closes
  or resets its TCP connection is forgotten the same way.
- a length field that is not two digits drops that client; a payload that is not UTF-8 is
  decoded with replacement characters.
- MISTAKE the rubric never exercises: after EXIT the loop over the client's buffer goes on.
  If EXIT is followed by another complete frame in the same recv (e.g. "04EXIT09GET_NAMES"
  in one write), that frame is handled on the socket just closed: send() raises
  OSError [Errno 9] Bad file descriptor and the whole server dies. EXIT alone (or followed
  only by an incomplete frame) is fine.
- prints "chat server listening on PORT".

Usage: python3 30_terse_dec2.py PORT
"""
import select
import socket
import sys


def pack(msg):
    return ("%02d%s" % (len(msg), msg)).encode()


def send(sock, msg):
    sock.send(pack(msg))


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(5)
print("chat server listening on", sys.argv[1], flush=True)

inputs = [listener]
buffers = {}   # socket -> bytes not handled yet
users = {}     # name -> socket


def name_of(sock):
    for name, s in users.items():
        if s is sock:
            return name
    return None


def forget(sock):
    name = name_of(sock)
    if name is not None:
        del users[name]


def disconnect(sock):
    forget(sock)
    if sock in inputs:
        inputs.remove(sock)
    buffers.pop(sock, None)
    sock.close()


def handle(sock, msg):
    parts = msg.split(" ", 2)
    cmd = parts[0]
    if cmd == "NAME":
        if len(parts) < 2 or parts[1] == "":
            send(sock, "ERROR usage NAME <name>")
        elif parts[1] in users:
            send(sock, "ERROR name in use")
        else:
            forget(sock)
            users[parts[1]] = sock
            send(sock, "OK")
    elif cmd == "GET_NAMES":
        send(sock, " ".join(users))
    elif cmd == "MSG":
        if len(parts) < 3:
            send(sock, "ERROR usage MSG <name> <text>")
        elif name_of(sock) is None:
            send(sock, "ERROR send NAME first")
        elif parts[1] not in users:
            send(sock, "ERROR no such user")
        else:
            send(users[parts[1]], name_of(sock) + " SENT " + parts[2])
    elif cmd == "EXIT":
        send(sock, "BYE")
        disconnect(sock)
    else:
        send(sock, "ERROR unknown command")


while True:
    ready, _, _ = select.select(inputs, [], [])
    for sock in ready:
        if sock is listener:
            client, addr = listener.accept()
            inputs.append(client)
            buffers[client] = b""
            continue
        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            disconnect(sock)
            continue
        buf = buffers.get(sock, b"") + data
        while len(buf) >= 2:
            head = buf[:2]
            if not head.isdigit():
                disconnect(sock)
                buf = b""
                break
            size = int(head)
            if len(buf) < 2 + size:
                break
            msg = buf[2:2 + size].decode("utf-8", errors="replace")
            buf = buf[2 + size:]
            handle(sock, msg)
        if sock in inputs:
            buffers[sock] = buf
