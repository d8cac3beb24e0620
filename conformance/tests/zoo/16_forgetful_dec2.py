"""Chat server that keeps a name -> socket table and never takes a name out of it.

Behaviours shown:
- dec2 framing both ways; recv(2) header, one recv(n) payload.
- every reply, deliveries included, goes through one helper that prefixes "Server Sent: ":
  NAME -> "Server Sent: Hello Alice"; a taken name -> "Server Sent: Error, name in use".
- GET_NAMES -> "Server Sent: Alice, Bob" (registration order).
- MSG -> "Server Sent: Alice SENT HELLO"; a message to yourself is delivered.
- unknown command -> "Server Sent: Error, command not found";
  missing recipient -> "Server Sent: Error, no such user".
- a client that closes its TCP connection (or sends EXIT, which gets "Server Sent: Goodbye")
  is closed and removed from the select() list, but its name stays in the table forever:
  it stays listed, stays taken, and a MSG to it is sent on the closed socket
  ("OSError: [Errno 9] Bad file descriptor"), which kills the whole server.
- MSG before NAME is delivered as "None SENT text".
- a length field that is not digits drops that client; a payload that is not UTF-8 crashes
  the whole server.

Usage: python3 16_forgetful_dec2.py PORT
"""
import select
import socket
import sys


def respond(conn, text):
    text = "Server Sent: " + text
    conn.send((str(len(text)).zfill(2) + text).encode())


port = int(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(5)
print("listening on", port, flush=True)

connections = [server]
table = {}   # name -> socket


def name_of(conn):
    for n, c in table.items():
        if c is conn:
            return n
    return None


def close_client(conn):
    connections.remove(conn)
    conn.close()


while True:
    ready, _, _ = select.select(connections, [], [])
    for conn in ready:
        if conn is server:
            new, _ = server.accept()
            connections.append(new)
            continue
        try:
            size = conn.recv(2)
        except ConnectionResetError:
            size = b""
        if not size.isdigit():
            close_client(conn)
            continue
        request = conn.recv(int(size)).decode()
        fields = request.split(" ", 2)
        if fields[0] == "NAME" and len(fields) == 2:
            if fields[1] in table:
                respond(conn, "Error, name in use")
            else:
                table[fields[1]] = conn
                respond(conn, "Hello " + fields[1])
        elif fields[0] == "GET_NAMES":
            respond(conn, ", ".join(table))
        elif fields[0] == "MSG" and len(fields) == 3:
            if fields[1] in table:
                respond(table[fields[1]], f"{name_of(conn)} SENT {fields[2]}")
            else:
                respond(conn, "Error, no such user")
        elif fields[0] == "EXIT":
            respond(conn, "Goodbye")
            close_client(conn)
        else:
            respond(conn, "Error, command not found")
