"""Chat server with 4-digit lengths whose GET_NAMES shows you the OTHER users only.

Behaviours shown:
- dec4 framing both ways: recv(4) for the header, then ONE recv(n) for the payload (a short
  read is used as it is, so half a frame is answered at once and nobody waits).
- the name table is a dict name -> socket (the name of a socket is found by a loop).
- NAME -> "HELLO Alice"; a taken name -> "Alice: name taken"; NAME without a name ->
  "NAME needs a name". A second NAME renames (the old name is dropped).
- GET_NAMES -> the names of everybody EXCEPT the one asking, registration order:
  "Other users: Bob" / "Other users: Bob, Carol"; "You are alone" when nobody else has a
  name (the student's idea: you know your own name already). An unnamed client sees every
  named client listed. Words after GET_NAMES are ignored.
- MSG -> the recipient gets "Alice SENT HELLO" (whole text); no acknowledgement.
  A message to yourself is refused: "You cannot message yourself".
  MSG before NAME -> "Choose a name with NAME first"; MSG without text ->
  "Usage: MSG <name> <text>".
- missing recipient -> "Nobody: no such user".
- unknown command -> "DANCE: unknown command" (the command word, then the complaint).
- EXIT -> "BYE", the name is forgotten and the connection closed. A client that closes TCP
  (or resets) is forgotten the same way.
- a length field that is not digits drops that client.
- prints "listening on PORT".
- student mistakes the rubric never exercises:
  * the end-of-connection check is "if not data" on the PAYLOAD read too, so an empty frame
    ("0000") makes recv(0) return b"" and the server takes it for a disconnect: that client
    is dropped (socket closed, name forgotten) although it is still there. The same happens
    when a header arrives in two pieces that split it: recv(4) returns "00", which is read
    as the length 0 (and the client is dropped).
  * the payload is decoded without a guard: invalid UTF-8 kills the whole server
    (UnicodeDecodeError).
  * only the reads are inside try/except; send() is not. A client that resets its
    connection (SO_LINGER 0) right after a command that gets a reply usually kills the
    whole server with ConnectionResetError from send() (measured: 22 to 24 of 30 tries for
    GET_NAMES or DANCE, 15 of 20 for EXIT; it depends on whether the reset arrives before
    the reply is sent). A plain close right after a command is harmless (one send per
    reply).
  * a header that arrives with nothing after it ("0017" alone) blocks the whole server in
    recv(17) until that client sends more or closes. Half a frame that holds the header and
    part of the payload ("0017MSG Al") is answered at once ("Usage: MSG <name> <text>").

Usage: python3 28_others_dec4.py PORT
"""
import select
import socket
import sys


def send_msg(conn, msg):
    conn.send((str(len(msg)).rjust(4, "0") + msg).encode())


def name_of(conn):
    for n in users:
        if users[n] is conn:
            return n
    return None


def goodbye(conn):
    inputs.remove(conn)
    n = name_of(conn)
    if n is not None:
        del users[n]
    conn.close()


port = int(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(5)
print("listening on", port)
sys.stdout.flush()

inputs = [server]
users = {}   # name -> socket

while True:
    readable, _, _ = select.select(inputs, [], [])
    for conn in readable:
        if conn is server:
            new_conn, addr = server.accept()
            inputs.append(new_conn)
            continue
        if conn not in inputs:
            continue
        try:
            header = conn.recv(4)
            if not header:
                goodbye(conn)
                continue
            length = int(header)
            data = conn.recv(length)
        except ValueError:
            goodbye(conn)
            continue
        except ConnectionError:
            goodbye(conn)
            continue
        if not data:
            # client left
            goodbye(conn)
            continue

        text = data.decode().strip()
        parts = text.split(" ", 2)
        command = parts[0]
        me = name_of(conn)

        if command == "NAME":
            if len(parts) < 2 or parts[1] == "":
                send_msg(conn, "NAME needs a name")
            elif parts[1] in users:
                send_msg(conn, parts[1] + ": name taken")
            else:
                if me is not None:
                    del users[me]
                users[parts[1]] = conn
                send_msg(conn, "HELLO " + parts[1])
        elif command == "GET_NAMES":
            others = [n for n in users if users[n] is not conn]
            if len(others) == 0:
                send_msg(conn, "You are alone")
            else:
                send_msg(conn, "Other users: " + ", ".join(others))
        elif command == "MSG":
            if me is None:
                send_msg(conn, "Choose a name with NAME first")
            elif len(parts) < 3:
                send_msg(conn, "Usage: MSG <name> <text>")
            elif parts[1] == me:
                send_msg(conn, "You cannot message yourself")
            elif parts[1] not in users:
                send_msg(conn, parts[1] + ": no such user")
            else:
                send_msg(users[parts[1]], me + " SENT " + parts[2])
        elif command == "EXIT":
            send_msg(conn, "BYE")
            goodbye(conn)
        else:
            send_msg(conn, command + ": unknown command")
