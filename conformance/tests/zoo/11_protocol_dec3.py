"""Chat server with 3-digit lengths and protocol-style replies ("NAME SUCCESS ..."), letters-
only names, and a read loop that waits for whole frames.

Behaviours shown:
- dec3 framing both ways ("032NAME SUCCESS Name set to Alice").
- read_exact() loops recv() until the declared length has arrived: one client's half frame
  (or a length larger than what it sent) holds up the whole server until the rest comes or
  that client closes.
- NAME -> "NAME SUCCESS Name set to Alice"; a name with anything but letters ->
  "NAME ERROR Invalid name" (e.g. "NAME Aar5001"); a taken name -> "NAME ERROR Name already taken".
- GET_NAMES -> "NAMES Alice Bob" (registration order).
- MSG -> "MSG_FROM Alice HELLO"; a message to yourself is delivered.
- unknown command -> "ERROR UNKNOWN_COMMAND"; missing recipient -> "MSG ERROR No such user".
- EXIT -> "EXIT SUCCESS", the name is forgotten and the connection closed.
- crashes the whole server: a length field that is not digits (int() raises ValueError) and
  a payload that is not UTF-8.

Usage: python3 11_protocol_dec3.py PORT
"""
import select
import socket
import sys


def read_exact(conn, count):
    buf = b""
    while len(buf) < count:
        more = conn.recv(count - len(buf))
        if more == b"":
            raise ConnectionError("client closed")
        buf += more
    return buf


def write(conn, text):
    conn.sendall(("%03d" % len(text)).encode() + text.encode())


def on_name(conn, arg, registry):
    if not arg.isalpha():
        return "NAME ERROR Invalid name"
    if arg in registry.values():
        return "NAME ERROR Name already taken"
    registry[conn] = arg
    return "NAME SUCCESS Name set to " + arg


def on_msg(conn, arg, registry):
    to, _, body = arg.partition(" ")
    for other, nm in registry.items():
        if nm == to:
            write(other, "MSG_FROM %s %s" % (registry.get(conn), body))
            return None
    return "MSG ERROR No such user"


def main():
    listen_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listen_sock.bind(("127.0.0.1", int(sys.argv[1])))
    listen_sock.listen(5)
    print("listening on", sys.argv[1], flush=True)
    watched = [listen_sock]
    registry = {}
    while True:
        ready, _, _ = select.select(watched, [], [])
        for conn in ready:
            if conn is listen_sock:
                watched.append(listen_sock.accept()[0])
                continue
            try:
                size = int(read_exact(conn, 3))
                request = read_exact(conn, size).decode()
            except ConnectionError:
                watched.remove(conn)
                registry.pop(conn, None)
                conn.close()
                continue
            verb, _, arg = request.partition(" ")
            if verb == "NAME":
                answer = on_name(conn, arg, registry)
            elif verb == "GET_NAMES":
                answer = "NAMES " + " ".join(registry.values())
            elif verb == "MSG":
                answer = on_msg(conn, arg, registry)
            elif verb == "EXIT":
                write(conn, "EXIT SUCCESS")
                watched.remove(conn)
                registry.pop(conn, None)
                conn.close()
                continue
            else:
                answer = "ERROR UNKNOWN_COMMAND"
            if answer:
                write(conn, answer)


main()
