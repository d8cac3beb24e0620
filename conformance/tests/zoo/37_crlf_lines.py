"""
Chat server - networks assignment 2
===================================

Run:   python3 server.py <port>        (listens on 127.0.0.1 only)
Test:  telnet 127.0.0.1 <port>         (that is how I tested it, two or three windows)

Protocol (how it really works on the wire):

  * There is NO length field. Everything is plain text lines, so it works
    from telnet. A command is one line ending in "\\n"; a "\\r" just before the
    "\\n" is taken off (telnet sends "\\r\\n").
  * Every client has its own buffer. Whatever recv() gives is added to it and
    every complete line in it is handled, in order (so two commands pasted at
    once both work). A line without its "\\n" yet just waits in the buffer
    until the rest comes; nobody else waits for it.
  * Empty lines are ignored (pressing enter in telnet).
  * Every line the server sends ends in "\\r\\n" so telnet shows it right.

Commands and replies (text shown without the "\\r\\n"):

  NAME <name>            -> "OK <name>, you are in"
                            name taken:        "The name <name> is taken, try another one"
                            already named:     "You are already <name>"
                            no name given:     "Usage: NAME <name>"
  GET_NAMES              -> one send with a heading and one line per user, in the
                            order they joined:
                                Users:
                                 - Alice
                                 - Bob
                            (nobody named yet: just "Users:"). Anything after the
                            word GET_NAMES is ignored.
  MSG <name> <text>      -> <name> gets "[<sender>] <text>" (whole text, spaces kept)
                            and the sender gets "(sent to <name>)".
                            Sending to yourself works the same (you get both lines).
                            no such user:      "User <name> is not here"
                            no text:           "Usage: MSG <name> <message>"
                            before NAME:       "Set your name first with NAME <name>"
  EXIT                   -> "Bye", the name is removed and the connection closed.
                            (Anything after EXIT in the same packet is dropped.)
  anything else          -> "Sorry, don't understand <WORD>. Try NAME, GET_NAMES, MSG or EXIT"

  Bytes that are not valid UTF-8 are turned into the replacement character,
  they don't kill anything.

KNOWN BUG (ran out of time):
  The name is only removed when the client types EXIT. If someone just closes
  the telnet window (or the program is killed) the socket is closed and
  dropped from the select list, but the name stays in the users list forever:
  GET_NAMES keeps showing it, nobody can take that name again, and a MSG to it
  is quietly lost (the sender still gets "(sent to <name>)").
"""

import select
import socket
import sys

HOST = "127.0.0.1"

if len(sys.argv) < 2:
    print("usage: python3 server.py <port>")
    sys.exit(1)

PORT = int(sys.argv[1])

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((HOST, PORT))
server.listen(5)

all_socks = [server]   # everything select() watches
names = {}             # sock -> name  (dict keeps the join order)
buffers = {}           # sock -> bytes not handled yet


def tell(sock, text):
    """send one line to a client, telnet style"""
    try:
        sock.sendall((text + "\r\n").encode())
    except OSError as e:
        # happened to me when I closed telnet too fast, don't want the server to die
        print("  could not send to a client:", e)


def find_sock(who):
    for s, n in names.items():
        if n == who:
            return s
    return None


def do_name(sock, args):
    if args == "":
        tell(sock, "Usage: NAME <name>")
        return
    new_name = args.split()[0]
    if sock in names:
        tell(sock, "You are already " + names[sock])
        return
    if new_name in names.values():
        tell(sock, "The name " + new_name + " is taken, try another one")
        return
    names[sock] = new_name
    print("  " + new_name + " joined")
    tell(sock, "OK " + new_name + ", you are in")


def do_get_names(sock):
    out = "Users:\r\n"
    for n in names.values():
        out += " - " + n + "\r\n"
    # one send for the whole list (tell() would add another \r\n at the end)
    try:
        sock.sendall(out.encode())
    except OSError as e:
        print("  could not send to a client:", e)


def do_msg(sock, args):
    if sock not in names:
        tell(sock, "Set your name first with NAME <name>")
        return
    bits = args.split(" ", 1)
    if len(bits) < 2 or bits[0] == "" or bits[1].strip() == "":
        tell(sock, "Usage: MSG <name> <message>")
        return
    to_who, text = bits[0], bits[1]
    target = find_sock(to_who)
    if target is None:
        tell(sock, "User " + to_who + " is not here")
        return
    tell(target, "[" + names[sock] + "] " + text)
    tell(sock, "(sent to " + to_who + ")")


def handle_line(sock, line):
    """returns False when the client has to be closed"""
    if line.strip() == "":
        return True  # just enter pressed
    if " " in line:
        cmd, args = line.split(" ", 1)
        args = args.strip()
    else:
        cmd, args = line, ""

    if cmd == "NAME":
        do_name(sock, args)
    elif cmd == "GET_NAMES":
        do_get_names(sock)
    elif cmd == "MSG":
        do_msg(sock, args)
    elif cmd == "EXIT":
        tell(sock, "Bye")
        if sock in names:
            print("  " + names[sock] + " left (EXIT)")
            del names[sock]
        return False
    else:
        tell(sock, "Sorry, don't understand " + cmd + ". Try NAME, GET_NAMES, MSG or EXIT")
    return True


def drop(sock):
    # TODO also take the name out of names (only EXIT does it now)
    if sock in all_socks:
        all_socks.remove(sock)
    if sock in buffers:
        del buffers[sock]
    sock.close()


print("Chat server running on port", PORT)

while True:
    ready, _, _ = select.select(all_socks, [], [])
    for s in ready:
        if s is server:
            conn, addr = server.accept()
            all_socks.append(conn)
            buffers[conn] = b""
            print("new connection from", addr)
            continue

        try:
            data = s.recv(1024)
        except OSError:
            data = b""

        if not data:
            print("connection closed")
            drop(s)
            continue

        buffers[s] += data
        keep = True
        while b"\n" in buffers[s]:
            raw_line, buffers[s] = buffers[s].split(b"\n", 1)
            if raw_line.endswith(b"\r"):
                raw_line = raw_line[:-1]
            line = raw_line.decode("utf-8", errors="replace")
            keep = handle_line(s, line)
            if not keep:
                break
        if not keep:
            drop(s)
