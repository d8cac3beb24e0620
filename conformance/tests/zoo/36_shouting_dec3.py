"""
Chat server - networks assignment 2 (multi user chat with select)

usage:  python3 server.py PORT        (listens on 127.0.0.1:PORT)

PROTOCOL (same for client -> server and server -> client)
    every message = 3 digit length, zero padded, then the text
    e.g.  010NAME Alice      009GET_NAMES      013WELCOME ALICE
    the length is len(text) (characters), the text is sent as utf-8.
    the server reads the 3 header bytes with recv(3) and then the text with ONE
    recv(length) (on localhost the whole thing is always there), whatever that
    recv returns is taken as the command. NOTE: if only the header has arrived the
    server waits in that recv until the text comes (nobody else is served meanwhile).

COMMANDS
    NAME <name>           -> "WELCOME <NAME>"       e.g. NAME Alice -> WELCOME ALICE
                             name taken (exact, case sensitive compare) -> "THAT NAME IS TAKEN"
                             (so Alice and ALICE can both join, both show as ALICE)
                             NAME with nothing after it -> "PLEASE GIVE A NAME"
                             sending NAME again with a free name renames you
                             (only the first word after NAME is used as the name)
    GET_NAMES             -> "ONLINE: ALICE, BOB"   (sorted a-z, ", " between names,
                             just "ONLINE: " when nobody has a name yet, anything
                             after GET_NAMES is ignored)
    MSG <name> <text>     -> <name> gets "<SENDER>: <TEXT>"  e.g. "ALICE: HELLO"
                             the whole text is delivered, the sender gets nothing back.
                             a message to yourself is delivered to you like any other.
                             no such user -> "NO SUCH USER"
                             MSG before NAME -> delivered as "NONE: <TEXT>"
    EXIT                  -> "GOODBYE"
    anything else         -> "UNKNOWN COMMAND"

    ALL REPLIES ARE IN CAPITALS: the text is .upper()'ed right before it is framed
    (so the length is the length of the upper case text). names are stored the way
    they were sent (Alice), only what goes out on the wire is upper case.

    a client that closes the connection (recv gives b"") is removed with its name.
    garbage in the length field / text that isnt utf-8 / a reset -> that client is
    kicked out, the server keeps going.

KNOWN BUGS (ran out of time)
    - EXIT says GOODBYE but I forgot to take the name out, the name stays in
      GET_NAMES until the client really closes the socket.
    - MSG with a name but no text after it ("MSG Bob", or just "MSG") crashes
      the server (IndexError on parts[2] / parts[1], I only checked the
      argument count for NAME).
      this also happens when a MSG frame arrives cut short so the text part
      is missing, because the short recv is taken as the whole command.
"""

import socket
import select
import sys

HEADER_SIZE = 3

clients = []     # all sockets incl. the server socket
names = {}       # socket -> name (as typed)


def frame(text):
    # shout everything, looks better in the client window :)
    text = text.upper()
    return (str(len(text)).zfill(HEADER_SIZE) + text).encode()


def send_to(sock, text):
    try:
        sock.send(frame(text))
    except OSError:
        pass  # client is gone, will be cleaned up when we read from it


def get_message(sock):
    """read one message. returns None when the client closed"""
    header = sock.recv(HEADER_SIZE)
    if header == b"":
        return None
    length = int(header.decode())
    data = sock.recv(length)   # should be all of it
    return data.decode()


def find_socket(name):
    for s, n in names.items():
        if n == name:
            return s
    return None


def remove_client(sock):
    if sock in names:
        print(names[sock], "disconnected")
        del names[sock]
    if sock in clients:
        clients.remove(sock)
    sock.close()


def handle(sock, line):
    parts = line.split(" ", 2)
    cmd = parts[0]

    if cmd == "NAME":
        if len(parts) < 2 or parts[1] == "":
            send_to(sock, "please give a name")
            return
        wanted = parts[1]
        if wanted in names.values():
            send_to(sock, "that name is taken")
            return
        names[sock] = wanted
        send_to(sock, "welcome " + wanted)

    elif cmd == "GET_NAMES":
        everyone = sorted(names.values())
        send_to(sock, "online: " + ", ".join(everyone))

    elif cmd == "MSG":
        to = parts[1]
        text = parts[2]
        target = find_socket(to)
        if target is None:
            send_to(sock, "no such user")
            return
        sender = names.get(sock)
        send_to(target, str(sender) + ": " + text)

    elif cmd == "EXIT":
        send_to(sock, "goodbye")
        # TODO remove name here too

    else:
        send_to(sock, "unknown command")


def main():
    port = int(sys.argv[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", port))
    server.listen(5)
    clients.append(server)
    print("server up on port", port)

    while True:
        ready, _, _ = select.select(clients, [], [])
        for s in ready:
            if s is server:
                conn, addr = server.accept()
                clients.append(conn)
                print("new connection from", addr)
                continue

            try:
                line = get_message(s)
            except (ValueError, OSError):
                # bad length / not utf-8 / connection reset -> kick them
                line = None
            if line is None:
                remove_client(s)
                continue

            handle(s, line)


if __name__ == "__main__":
    main()
