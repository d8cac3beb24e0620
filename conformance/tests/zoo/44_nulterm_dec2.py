"""Chat server for the networking assignment, 2-digit length field.

Written by a student who learned C before Python: every string the server sends is
"NUL-terminated", like a C string, and the terminator is part of the payload and of the
length ("%02d" % (len(text) + 1)).  So "You are Alice now" goes out as
b"18You are Alice now\\x00".  The student's own client does strip the NUL when it prints.

Incoming frames: 2 ASCII digits then the payload (the student's client sends no NUL).
Each recv(1024) is appended to the client's buffer and every complete frame in it is
handled, so a half frame waits without holding anyone up and two frames in one write are
two commands.  If a command still ends in NUL bytes (a client that copies the server's
habit) they are stripped before parsing.

Protocol (as in the student's protocol.txt):
  NAME <name>          -> "You are <name> now"
                          taken -> "<name> is taken already, choose another"
                          no name -> "Usage: NAME <name>"
  GET_NAMES            -> "Present: Alice, Bob" (registration order; extra words ignored)
                          nobody named -> "Present: (none)"
  MSG <name> <text>    -> recipient gets "Msg from Alice - <text>", no ack to the sender
                          no such user -> "No user matches Nobody"
                          before NAME -> "Set a name first"
                          missing text -> "Usage: MSG <name> <text>"
  EXIT                 -> "Goodbye Alice", then the name is freed and the socket closed
  anything else        -> "Not a command: DANCE"

A bad length field (not two digits) drops that client.  A payload that is not valid
UTF-8 kills the whole server (decode() is not in a try).

MISTAKE (the student's): the recipient of a MSG is found the way the C version did it,
strncmp(client_name, target, strlen(target)) == 0, i.e. "the name starts with what was
typed".  The first named client (registration order) whose name starts with the target
gets the message: "MSG Al hi" reaches Alice, "MSG B hi" reaches Bob.  An exact name is
matched correctly unless an earlier client's name starts with it ("MSG Sam x" reaches
Samantha if she named before Sam).  A target that starts no name gets the error.

Usage: python3 44_nulterm_dec2.py PORT
"""
import select
import socket
import sys

HEADER_LEN = 2


def make_frame(text):
    # C habit: the string is sent with its terminator, and the length counts it
    text = text + "\0"
    return ("%02d" % len(text) + text).encode()


def send_str(sock, text):
    try:
        sock.sendall(make_frame(text))
    except OSError as e:
        print("send error:", e)


port = int(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(10)
print("listening on", port)

inputs = [server]
bufs = {}       # sock -> bytes received but not handled
names = {}      # sock -> name (dict keeps registration order)


def drop(sock):
    if sock in inputs:
        inputs.remove(sock)
    bufs.pop(sock, None)
    if sock in names:
        print("client left:", names[sock])
        del names[sock]
    sock.close()


def find_client(target):
    # like strncmp(name, target, strlen(target)) in my C version
    for s, n in names.items():
        if n[:len(target)] == target:
            return s
    return None


def handle(sock, line):
    while line.endswith("\0"):
        line = line[:-1]
    parts = line.split()
    if not parts:
        send_str(sock, "Not a command: ")
        return
    cmd = parts[0]

    if cmd == "NAME":
        if len(parts) < 2:
            send_str(sock, "Usage: NAME <name>")
            return
        name = parts[1]
        if name in names.values():
            send_str(sock, name + " is taken already, choose another")
            return
        names[sock] = name
        send_str(sock, "You are " + name + " now")

    elif cmd == "GET_NAMES":
        if names:
            send_str(sock, "Present: " + ", ".join(names.values()))
        else:
            send_str(sock, "Present: (none)")

    elif cmd == "MSG":
        if sock not in names:
            send_str(sock, "Set a name first")
            return
        bits = line.split(" ", 2)
        if len(bits) < 3 or bits[1] == "" or bits[2] == "":
            send_str(sock, "Usage: MSG <name> <text>")
            return
        dest = find_client(bits[1])
        if dest is None:
            send_str(sock, "No user matches " + bits[1])
            return
        send_str(dest, "Msg from " + names[sock] + " - " + bits[2])

    elif cmd == "EXIT":
        send_str(sock, "Goodbye " + names.get(sock, "stranger"))
        drop(sock)

    else:
        send_str(sock, "Not a command: " + cmd)


while True:
    readable, _, _ = select.select(inputs, [], [])
    for s in readable:
        if s is server:
            conn, addr = server.accept()
            print("connection from", addr)
            inputs.append(conn)
            bufs[conn] = b""
            continue
        if s not in inputs:
            continue   # dropped earlier in this round
        try:
            data = s.recv(1024)
        except OSError:
            data = b""
        if not data:
            drop(s)
            continue
        bufs[s] += data
        while s in bufs and len(bufs[s]) >= HEADER_LEN:
            head = bufs[s][:HEADER_LEN]
            if not head.isdigit():
                print("bad header", head)
                drop(s)
                break
            n = int(head)
            if len(bufs[s]) < HEADER_LEN + n:
                break
            payload = bufs[s][HEADER_LEN:HEADER_LEN + n]
            bufs[s] = bufs[s][HEADER_LEN + n:]
            handle(s, payload.decode())
