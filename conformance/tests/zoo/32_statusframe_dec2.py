"""Chat server that answers every command with a status frame followed by a content frame.

The student copied the idea from an HTTP lab: first a status ("OK" or "ERR"), then the body,
each as its own frame. Only the sender of a MSG gets a bare "OK" (the body goes to the
recipient).

Behaviours shown:
- dec2 framing both ways: two ASCII digits, zero-padded, then the payload; the length counts
  characters (len(text)). The header is read with recv(2) and the payload with a single
  recv(n) (a short read is used as it is; recv(n) waits for a payload written after its
  header). One select() loop, blocking sockets. So half a frame that holds its header
  ("17MSG Ali") is handled at once as a short command ("ERR", "Usage: MSG <name> <text>"),
  but a header that arrives alone holds the whole server until its payload comes.
  recv(n) counts bytes, so a non-ASCII payload whose header counts characters is cut short
  and its tail read as the next header (the client is dropped); replies count characters.
- each reply is two send() calls, one per frame:
  * NAME -> "OK", "Hello Alice"; a taken name -> "ERR", "Name Alice is taken".
  * GET_NAMES -> "OK", "Alice Bob" (registration order; words after GET_NAMES ignored;
    when nobody is named the second frame is empty: "02OK00").
  * MSG -> the sender gets one frame "OK", then the recipient gets "Alice SENT HELLO"
    (whole text). A message to yourself: "OK" then "Alice SENT me".
    missing recipient -> "ERR", "No such user Nobody"; MSG without text -> "ERR",
    "Usage: MSG <name> <text>"; MSG before NAME -> "ERR", "Pick a name first".
  * unknown command (also NAME without a name) -> "ERR", "Bad command DANCE".
  * EXIT -> "OK", "Bye", then the name is forgotten and the connection closed.
  * NAME from a named client renames it (the old name is free again).
- a TCP close or a reset removes the client and its name. A length field that is not
  digits or a payload that is not UTF-8 drops only that client (int() and decode() both
  raise ValueError, which is caught). Send errors are swallowed, so a client that leaves
  right after a command does not hurt the server.
- prints nothing.
- mistake the rubric never reaches: the header is made with str(len(text)).zfill(2), which
  never cuts, so a reply of 100 characters or more goes out with a 3-digit header (e.g.
  "MSG Bob " + 89 characters is delivered as "100Alice SENT xxx..."): a dec2 client then reads
  "10" as the length and everything after that frame is garbled. Incoming frames are at
  most 99 characters, but the " SENT " prefix and a long names list go over.

Usage: python3 32_statusframe_dec2.py PORT
"""
import select
import socket
import sys

OK = "OK"
ERR = "ERR"


def send_frame(conn, text):
    header = str(len(text)).zfill(2)
    try:
        conn.send((header + text).encode())
    except OSError:
        pass


def reply(conn, status, body):
    send_frame(conn, status)
    send_frame(conn, body)


def read_frame(conn):
    header = conn.recv(2)
    if not header:
        return None
    size = int(header.decode())
    return conn.recv(size).decode()


def main():
    port = int(sys.argv[1])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    listener.listen(5)

    connections = [listener]
    nicknames = {}

    def close_client(conn):
        connections.remove(conn)
        nicknames.pop(conn, None)
        conn.close()

    def lookup(name):
        for c in nicknames:
            if nicknames[c] == name:
                return c
        return None

    while True:
        ready, _, _ = select.select(connections, [], [])
        for conn in ready:
            if conn is listener:
                new_conn, _ = listener.accept()
                connections.append(new_conn)
                continue

            try:
                request = read_frame(conn)
            except (ConnectionResetError, ValueError):
                request = None
            if request is None:
                close_client(conn)
                continue

            args = request.split(" ", 2)
            command = args[0]

            if command == "NAME" and len(args) > 1:
                if lookup(args[1]) is not None:
                    reply(conn, ERR, "Name " + args[1] + " is taken")
                else:
                    nicknames[conn] = args[1]
                    reply(conn, OK, "Hello " + args[1])
            elif command == "GET_NAMES":
                reply(conn, OK, " ".join(nicknames.values()))
            elif command == "MSG":
                if conn not in nicknames:
                    reply(conn, ERR, "Pick a name first")
                elif len(args) < 3:
                    reply(conn, ERR, "Usage: MSG <name> <text>")
                elif lookup(args[1]) is None:
                    reply(conn, ERR, "No such user " + args[1])
                else:
                    send_frame(conn, OK)
                    send_frame(lookup(args[1]), nicknames[conn] + " SENT " + args[2])
            elif command == "EXIT":
                reply(conn, OK, "Bye")
                close_client(conn)
            else:
                reply(conn, ERR, "Bad command " + command)


main()
