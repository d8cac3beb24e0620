"""
chat server (select) -- with colours!

    python3 41_colours_dec2.py <port>

messages both ways:  2 chars length (str(len).zfill(2)) + the text
the length counts every character of the text, the colour codes too.

all replies are coloured so they look nice in the terminal of the client:
    green  = it worked          e.g. ESC[32mJoined as Dana ESC[0m
    red    = something is wrong e.g. ESC[31mNo such command: HELP ESC[0m
    bold   = who sent a message e.g. ESC[1mDana ESC[0m wrote: hi

commands:
    NAME <name>          -> green "Joined as <name>" / red "<name> is used by someone else"
    GET_NAMES            -> green "Here now: Dana, Eli"
    MSG <name> <text>    -> delivered as "<sender in bold> wrote: <text>"
                            red "<name> is not around" if no such user
    EXIT                 -> green "See you later, <name>" and the connection is closed
    other                -> red "No such command: <cmd>"
"""
import select
import socket
import sys

GREEN = "\x1b[32m"
RED = "\x1b[31m"
BOLD = "\x1b[1m"
RESET = "\x1b[0m"

HEADER = 2


def pack(msg):
    return (str(len(msg)).zfill(HEADER) + msg).encode()


def send(sock, msg):
    try:
        sock.send(pack(msg))
    except OSError:
        pass


def good(sock, msg):
    send(sock, GREEN + msg + RESET)


def bad(sock, msg):
    send(sock, RED + msg + RESET)


def receive(sock):
    header = sock.recv(HEADER)
    if not header:
        return None
    size = int(header.decode())
    return sock.recv(size).decode()


port = int(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen()
print(GREEN + "chat server running on port " + str(port) + RESET)

connections = [server]
names = {}  # sock -> name


def close_client(sock):
    if sock in names:
        print(RED + names[sock] + " disconnected" + RESET)
        del names[sock]
    connections.remove(sock)
    sock.close()


def on_message(sock, msg):
    parts = msg.split(" ", 2)
    cmd = parts[0]

    if cmd == "NAME":
        if len(parts) < 2 or parts[1] == "":
            bad(sock, "Usage: NAME <name>")
        elif parts[1] in names.values():
            bad(sock, parts[1] + " is used by someone else")
        else:
            names[sock] = parts[1]
            good(sock, "Joined as " + parts[1])

    elif cmd == "GET_NAMES":
        good(sock, "Here now: " + ", ".join(names.values()))

    elif cmd == "MSG":
        if len(parts) < 3:
            bad(sock, "Usage: MSG <name> <text>")
        elif sock not in names:
            bad(sock, "Set a name first: NAME <name>")
        else:
            to = parts[1]
            found = False
            for other in names:
                if names[other] == to:
                    found = True
                send(other, BOLD + names[sock] + RESET + " wrote: " + parts[2])
            if not found:
                bad(sock, to + " is not around")

    elif cmd == "EXIT":
        good(sock, "See you later, " + names.get(sock, "stranger"))
        close_client(sock)

    else:
        bad(sock, "No such command: " + cmd)


while True:
    readable, _, _ = select.select(connections, [], [])
    for sock in readable:
        if sock is server:
            client, address = server.accept()
            connections.append(client)
            print(GREEN + "new client " + str(address) + RESET)
            continue
        try:
            msg = receive(sock)
        except (ValueError, ConnectionResetError):
            msg = None
        if msg is None:
            close_client(sock)
        else:
            on_message(sock, msg)
