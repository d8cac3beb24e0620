#!/usr/bin/env python3
# Computer Networks - Exercise 2: multi user chat server
#
# run:   python3 server.py PORT
#
# Protocol (server <-> client, both directions):
#   3 digit length, padded with zeros, then the text.  "012NAME Charlie"
#   the length is the number of characters of the text.
#
#   NAME <name>         -> "Registered as <name>"
#                          "Name <name> is not available" if somebody has it
#   GET_NAMES           -> "Registered users: Alice | Bob"
#   MSG <name> <text>   -> <name> gets "<sender> >> <text>"
#                          "<name> is not registered" if there is nobody with that name
#   EXIT                -> "Unregistered, bye!" and the connection is closed
#   anything else       -> "Invalid request: <command>"
#
# Keep alive: every second the server sends "KEEPALIVE" to every client that is
# connected (also the ones without a name yet) so that the client knows the server
# is still up. The client doesn't answer, it just skips these messages.
# For this select() has a timeout of 1 second so the loop also runs when nobody
# sends anything.

import select
import socket
import sys
import time

HEADER_LEN = 3
PING_EVERY = 1.0          # seconds
PING_TEXT = "KEEPALIVE"

server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server_socket.bind(("127.0.0.1", int(sys.argv[1])))
server_socket.listen(10)
print("Server is up on port", sys.argv[1])

sockets_list = [server_socket]
users = {}          # socket -> name
buffer = ""         # what we got so far that is not a full message yet


def build(text):
    return ("{:03d}".format(len(text)) + text).encode()


def send(sock, text):
    try:
        sock.send(build(text))
    except OSError:
        # client is gone, it will show up in select as closed
        pass


def remove_client(sock):
    if sock in sockets_list:
        sockets_list.remove(sock)
    if sock in users:
        print(users[sock], "left")
        del users[sock]
    sock.close()


def find_user(name):
    for s in users:
        if users[s] == name:
            return s
    return None


def handle(sock, text):
    """handles one message. returns False if the client said EXIT"""
    parts = text.split(" ", 2)
    command = parts[0]

    if command == "NAME":
        if len(parts) < 2 or parts[1] == "":
            send(sock, "Usage: NAME <name>")
        elif parts[1] in users.values():
            send(sock, "Name " + parts[1] + " is not available")
        else:
            users[sock] = parts[1]
            send(sock, "Registered as " + parts[1])

    elif command == "GET_NAMES":
        send(sock, "Registered users: " + " | ".join(users.values()))

    elif command == "MSG":
        if sock not in users:
            send(sock, "Register first with NAME <name>")
        elif len(parts) < 3:
            send(sock, "Usage: MSG <name> <text>")
        else:
            target = find_user(parts[1])
            if target is None:
                send(sock, parts[1] + " is not registered")
            else:
                send(target, users[sock] + " >> " + parts[2])

    elif command == "EXIT":
        send(sock, "Unregistered, bye!")
        remove_client(sock)
        return False

    else:
        send(sock, "Invalid request: " + command)
    return True


last_ping = time.time()

while True:
    readable, _, _ = select.select(sockets_list, [], [], PING_EVERY)

    for sock in readable:
        if sock is server_socket:
            conn, addr = server_socket.accept()
            sockets_list.append(conn)
            print("New connection from", addr)
            continue

        try:
            data = sock.recv(1024)
        except OSError:
            data = b""
        if not data:
            remove_client(sock)
            continue

        buffer += data.decode()
        # there can be more than one message in the buffer, or half of one
        while len(buffer) >= HEADER_LEN:
            try:
                length = int(buffer[:HEADER_LEN])
            except ValueError:
                print("Bad header, throwing away:", repr(buffer))
                buffer = ""
                break
            if len(buffer) < HEADER_LEN + length:
                break  # rest of the message didn't come yet
            text = buffer[HEADER_LEN:HEADER_LEN + length]
            buffer = buffer[HEADER_LEN + length:]
            if not handle(sock, text):
                buffer = ""  # they left, the rest doesn't matter
                break

    # keep alive for everyone
    now = time.time()
    if now - last_ping >= PING_EVERY:
        for sock in sockets_list[1:]:
            try:
                sock.send(build(PING_TEXT))
            except OSError:
                remove_client(sock)
        last_ping = now
