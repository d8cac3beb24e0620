"""Chat server without a length field that never notices a closed connection.

Behaviours shown:
- no framing: one recv(1024) is one command, replies are sent raw (no length, no newline).
- only the first ready socket of each select() round is served (ready[0]).
- when recv() returns b"" the server just skips it: the closed socket stays in the select()
  list and its name stays listed and taken forever. A closed socket is readable at every
  select(), so from then on it is ready[0] whenever it comes before the other ready
  sockets in the list: every client that connected after it is never served again (its
  input is swallowed), while clients that connected before it still are. For example a
  client that connects and leaves without a word wedges every later client. The loop also
  spins at full CPU from then on.
- NAME -> "Hello Alice"; a taken name -> "Name is taken".
- GET_NAMES -> "Alice Bob " (a space after every name, registration order).
- MSG -> "Alice sent HELLO"; a message to yourself is delivered.
- unknown command -> "Unknown command"; missing recipient -> "No such user".
- EXIT is handled properly: "Bye", the name is forgotten, the socket is closed and removed.
- input that is not UTF-8 crashes the whole server, and so does a connection reset (recv()
  raises ConnectionResetError, e.g. a client that closes with replies still unread).

Usage: python3 10_raw_wedge.py PORT
"""
import select
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
socks = [s]
users = {}

while True:
    ready, _, _ = select.select(socks, [], [])
    conn = ready[0]
    if conn is s:
        c, addr = s.accept()
        socks.append(c)
        continue
    data = conn.recv(1024)
    if not data:
        continue
    line = data.decode().strip()
    cmd = line.split(" ")
    if cmd[0] == "NAME" and len(cmd) == 2:
        if cmd[1] in users.values():
            conn.send(b"Name is taken")
        else:
            users[conn] = cmd[1]
            conn.send(("Hello " + cmd[1]).encode())
    elif cmd[0] == "GET_NAMES":
        names = ""
        for u in users.values():
            names += u + " "
        conn.send(names.encode())
    elif cmd[0] == "MSG" and len(cmd) >= 3:
        text = " ".join(cmd[2:])
        sent = False
        for c in users:
            if users[c] == cmd[1]:
                c.send((users.get(conn, "") + " sent " + text).encode())
                sent = True
        if not sent:
            conn.send(b"No such user")
    elif cmd[0] == "EXIT":
        conn.send(b"Bye")
        users.pop(conn, None)
        socks.remove(conn)
        conn.close()
    else:
        conn.send(b"Unknown command")
