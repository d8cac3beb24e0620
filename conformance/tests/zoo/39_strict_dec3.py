"""Chat server with strict name rules and a connection limit, 3-digit lengths.

The student wrote the name rules into their protocol file: a name is one word of letters
only, at most 8 of them, and two users may not have names that differ only in letter case.
The server also refuses an eleventh connection.

Behaviours shown:
- dec3 framing both ways: three ASCII digits (zero-padded, "%03d") then the payload; the
  outgoing length counts characters (len(text)). Each recv(1024) is appended to that
  client's bytes buffer and every complete frame in it is handled (the incoming length is
  used as a byte count on the buffer), so half a frame (or half a header) just waits for
  its rest without holding anyone up, a header and payload written separately are joined,
  and two frames in one write give two replies. One select() loop.
- NAME, checked in this order:
  * no name                    -> "Usage: NAME <name>"
  * anything but letters (str.isalpha(), so digits, '_', '-' and spaces are refused)
                               -> "Names can only contain letters"
  * more than 8 letters        -> "Name too long, 8 letters at most"
  * taken, compared case-insensitively ("NAME alice" while Alice is connected)
                               -> "Somebody here is already called alice"
  * the client already has a name -> "You are already signed in as Alice"
  * otherwise                  -> "Signed in as Alice"
- GET_NAMES -> "Chatting now: Alice, Bob" (registration order, as typed; extra words
  ignored); nobody named -> "Chatting now: nobody".
- MSG -> the recipient gets "Alice whispers: HELLO" (whole text); the recipient is looked
  up with the exact letter case; a message to yourself is delivered to yourself; no
  acknowledgement to the sender. MSG before NAME -> "Pick a name before sending messages";
  MSG without a text -> "Usage: MSG <name> <text>".
- missing recipient -> "Nobody isn't here right now".
- unknown command -> "Bad command: DANCE (try NAME, GET_NAMES, MSG or EXIT)".
- EXIT -> "Bye Alice, see you soon", then the name is released and the connection closed.
- at most 10 connections at once (named or not; the listening socket is not counted): an
  11th connection is accepted, sent "Server full (10 connections), try later" and closed at
  once. A slot is free again as soon as one of the ten closes.
- a length field that is not three digits -> "Bad length field" and that client is dropped.
- not handled: a payload that is not valid UTF-8 kills the WHOLE server (UnicodeDecodeError).

MISTAKE (the student's, on purpose): the case-insensitive check uses a separate set
`taken` of lower-cased names. EXIT removes the name from both `names` and `taken`, but a
client that closes its TCP connection (or is dropped for a bad length) is only removed from
`names`. Its name disappears from GET_NAMES but stays reserved for the server's lifetime:
after Bob closed, "NAME Bob" (or "NAME BOB") from anyone gets
"Somebody here is already called Bob", and nobody can ever use that name again.

Usage: python3 39_strict_dec3.py PORT
"""
import select
import socket
import sys

MAX_CLIENTS = 10
HEADER = 3


def pack(text):
    return ("%03d" % len(text) + text).encode()


def send(sock, text):
    try:
        sock.sendall(pack(text))
    except OSError as err:
        print("send failed:", err)


port = int(sys.argv[1])
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", port))
listener.listen(5)
print("server up on port", port)

sockets = [listener]
buffers = {}   # socket -> bytes not parsed yet
names = {}     # socket -> name
taken = set()  # lower-case names in use


def close_client(sock):
    sockets.remove(sock)
    del buffers[sock]
    if sock in names:
        print(names[sock], "left")
        del names[sock]
    sock.close()


def find_user(name):
    for s in names:
        if names[s] == name:
            return s
    return None


def do_name(sock, arg):
    if arg == "":
        send(sock, "Usage: NAME <name>")
    elif not arg.isalpha():
        send(sock, "Names can only contain letters")
    elif len(arg) > 8:
        send(sock, "Name too long, 8 letters at most")
    elif arg.lower() in taken:
        send(sock, "Somebody here is already called " + arg)
    elif sock in names:
        send(sock, "You are already signed in as " + names[sock])
    else:
        names[sock] = arg
        taken.add(arg.lower())
        send(sock, "Signed in as " + arg)


def do_msg(sock, arg):
    if sock not in names:
        send(sock, "Pick a name before sending messages")
        return
    to, _, text = arg.partition(" ")
    if to == "" or text == "":
        send(sock, "Usage: MSG <name> <text>")
        return
    dest = find_user(to)
    if dest is None:
        send(sock, to + " isn't here right now")
    else:
        send(dest, names[sock] + " whispers: " + text)


def handle(sock, line):
    cmd, _, arg = line.partition(" ")
    if cmd == "NAME":
        do_name(sock, arg)
    elif cmd == "GET_NAMES":
        if names:
            send(sock, "Chatting now: " + ", ".join(names.values()))
        else:
            send(sock, "Chatting now: nobody")
    elif cmd == "MSG":
        do_msg(sock, arg)
    elif cmd == "EXIT":
        name = names.pop(sock, "")
        taken.discard(name.lower())
        send(sock, ("Bye " + name + ", see you soon") if name else "Bye, see you soon")
        close_client(sock)
        return False
    else:
        send(sock, "Bad command: " + cmd + " (try NAME, GET_NAMES, MSG or EXIT)")
    return True


while True:
    readable, _, _ = select.select(sockets, [], [])
    for sock in readable:
        if sock is listener:
            conn, addr = listener.accept()
            if len(sockets) - 1 >= MAX_CLIENTS:
                print("refusing", addr, "- server full")
                send(conn, "Server full (10 connections), try later")
                conn.close()
            else:
                print("connection from", addr)
                sockets.append(conn)
                buffers[conn] = b""
            continue

        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            close_client(sock)
            continue

        buffers[sock] += data
        while len(buffers[sock]) >= HEADER:
            head = buffers[sock][:HEADER]
            if not head.isdigit():
                send(sock, "Bad length field")
                close_client(sock)
                break
            size = int(head)
            if len(buffers[sock]) < HEADER + size:
                break
            line = buffers[sock][HEADER:HEADER + size].decode("utf-8")
            buffers[sock] = buffers[sock][HEADER + size:]
            if not handle(sock, line):
                break
