"""Strict chat server (networks course, assignment 2)

My idea: the server does not argue with broken clients. If a client sends something the
server cannot handle, it gets ONE error line and is disconnected, so a buggy client cannot
spam the server.

Behaviours shown:
- NO length field: commands are text lines ending in "\\n" (a "\\r" and spaces around the
  line are stripped), every reply is one line ending in "\\n". Each client has its own
  byte buffer; a line without its "\\n" yet waits in that buffer (nobody else waits).
- the argument table: NAME takes 1, GET_NAMES 0, MSG 2 (the name, then the text, which is
  the whole rest of the line, spaces kept), EXIT 0 (arguments are counted with split()).
  Anything the server cannot handle gets an error line and then the connection is CLOSED
  and the client forgotten (its name is free again):
    unknown command     -> "Error: I can't handle 'DANCE', disconnecting you"
    wrong argument count -> "Error: GET_NAMES takes 0 argument(s), you gave 2,
                            disconnecting you"   ("GET_NAMES extra words", "NAME",
                            "NAME Alice Smith", "MSG Bob", "EXIT now", ...)
- errors that are not the client's protocol fault keep the connection:
    taken name          -> "Sorry, the name Alice is taken"
    NAME when named     -> "Error: you are already Alice"
    MSG before NAME     -> "Error: set a name first (NAME <name>)"
    missing recipient   -> "Error: nobody called Nobody is online"
- NAME Alice -> "Name set: Alice".
- GET_NAMES -> "In the room: Alice, Bob" (connection order); "In the room: (nobody)".
- MSG Bob HELLO -> Bob gets "Alice whispers: HELLO"; no ack to the sender; a message to
  yourself is delivered to yourself.
- EXIT -> "See you, Alice" ("See you" without a name), then forgotten and closed.
  A TCP close or reset forgets the client the same way. Blank lines are ignored.
- bytes that are not UTF-8 become U+FFFD (decode with errors="replace"), failed sends are
  printed and ignored: nothing here crashes the server.
- prints "strict chat server on port PORT" and a line per event.
- student mistake:
  * after each recv() the server takes at most ONE complete line out of the client's
    buffer ("if" where a "while" was needed). When two lines arrive in one read
    ("GET_NAMES\\nGET_NAMES\\n", or "NAME Alice\\nGET_NAMES\\n"), only the first is
    answered; the second stays in the buffer and is handled only when that client sends
    something more (then the oldest waiting line is handled, not the new one), so from
    then on that client's replies lag one command behind. Lines sent one at a time, each
    after the previous reply, are never affected.

Usage: python3 43_kickout_line.py PORT
"""
import select
import socket
import sys

# command -> how many arguments it must have
ARG_COUNT = {"NAME": 1, "GET_NAMES": 0, "MSG": 2, "EXIT": 0}

server = None
inputs = []      # sockets for select
names = {}       # socket -> name (only clients that have one)
buffers = {}     # socket -> bytes received but not handled


def send_line(sock, text):
    try:
        sock.sendall((text + "\n").encode())
    except OSError as e:
        print("could not send:", e)


def forget(sock):
    who = names.pop(sock, None)
    buffers.pop(sock, None)
    if sock in inputs:
        inputs.remove(sock)
    sock.close()
    print("forgot connection", who)


def kick(sock, error):
    # protocol error: tell them once and close
    send_line(sock, error + ", disconnecting you")
    forget(sock)


def socket_of(name):
    for s in names:
        if names[s] == name:
            return s
    return None


def process(sock, line):
    """handles one line, returns False if the socket was closed"""
    line = line.strip()
    if line == "":
        return True
    print(names.get(sock), "->", repr(line))

    cmd, _, rest = line.partition(" ")
    rest = rest.strip()
    if cmd not in ARG_COUNT:
        kick(sock, "Error: I can't handle '" + cmd + "'")
        return False
    if cmd == "MSG":
        args = rest.split(" ", 1) if rest else []   # text keeps its spaces
    else:
        args = rest.split()
    if len(args) != ARG_COUNT[cmd]:
        kick(sock, "Error: %s takes %d argument(s), you gave %d"
             % (cmd, ARG_COUNT[cmd], len(args)))
        return False

    if cmd == "NAME":
        wanted = args[0]
        if sock in names:
            send_line(sock, "Error: you are already " + names[sock])
        elif wanted in names.values():
            send_line(sock, "Sorry, the name " + wanted + " is taken")
        else:
            names[sock] = wanted
            send_line(sock, "Name set: " + wanted)
    elif cmd == "GET_NAMES":
        if names:
            send_line(sock, "In the room: " + ", ".join(names.values()))
        else:
            send_line(sock, "In the room: (nobody)")
    elif cmd == "MSG":
        if sock not in names:
            send_line(sock, "Error: set a name first (NAME <name>)")
            return True
        to, text = args
        dest = socket_of(to)
        if dest is None:
            send_line(sock, "Error: nobody called " + to + " is online")
        else:
            send_line(dest, names[sock] + " whispers: " + text)
    elif cmd == "EXIT":
        if sock in names:
            send_line(sock, "See you, " + names[sock])
        else:
            send_line(sock, "See you")
        forget(sock)
        return False
    return True


def main():
    global server
    if len(sys.argv) != 2:
        print("usage: python3 43_kickout_line.py PORT")
        return
    port = int(sys.argv[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", port))
    server.listen(5)
    inputs.append(server)
    print("strict chat server on port", port, flush=True)

    while True:
        ready, _, _ = select.select(inputs, [], [])
        for s in ready:
            if s is server:
                conn, addr = server.accept()
                inputs.append(conn)
                buffers[conn] = b""
                print("connection from", addr)
                continue
            if s not in inputs:
                continue
            try:
                data = s.recv(1024)
            except OSError:
                data = b""
            if not data:
                forget(s)
                continue
            buffers[s] += data
            # got a whole line yet?
            if b"\n" in buffers[s]:
                raw, buffers[s] = buffers[s].split(b"\n", 1)
                process(s, raw.decode("utf-8", errors="replace"))


if __name__ == "__main__":
    main()
