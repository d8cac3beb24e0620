"""Chat server with 4-digit lengths, a DNS command, and no answer at all to things it does
not know.

Behaviours shown:
- dec4 framing both ways; recv(4) header, one recv(n) payload.
- GET_NAMES while nobody has a name gets no reply at all (the list is only sent when it is
  not empty); once someone is named it answers "Connected clients: Alice, Bob".
- NAME -> "Hello Alice"; a taken name -> "ERROR: duplicate name".
- MSG -> "Alice sent HELLO"; a message to yourself is delivered.
- missing recipient -> "ERROR: user not found".
- extra: "DNS <host>" answers from a fixed table without using the network
  ("DNS localhost 127.0.0.1", otherwise "DNS ERROR unknown host").
- an unknown command gets no reply at all (the if/elif chain has no else).
- EXIT -> "Bye!" but the socket and the name stay until the client closes TCP.
- a length field that is not digits gets "ERROR: bad length" (once per 4-byte chunk, since
  the rest of the stream is read as more headers); a payload that is not UTF-8 crashes the
  whole server.

Usage: python3 15_dns_dec4.py PORT
"""
import select
import socket
import sys

HOSTS = {"localhost": "127.0.0.1", "server": "127.0.0.1"}


def transmit(conn, s):
    conn.send(str(len(s)).zfill(4).encode() + s.encode())


def lookup(clients, name):
    return next((c for c, n in clients.items() if n == name), None)


def main():
    port = int(sys.argv[1])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    listener.listen(5)
    print("listening on", port, flush=True)
    socket_list = [listener]
    clients = {}
    while True:
        r, w, x = select.select(socket_list, [], [])
        for conn in r:
            if conn is listener:
                socket_list.append(listener.accept()[0])
                continue
            try:
                header = conn.recv(4)
            except ConnectionResetError:
                header = b""
            if not header:
                socket_list.remove(conn)
                clients.pop(conn, None)
                conn.close()
                continue
            if not header.isdigit():
                transmit(conn, "ERROR: bad length")
                continue
            text = conn.recv(int(header)).decode()
            cmd, _, rest = text.partition(" ")
            if cmd == "NAME":
                if lookup(clients, rest):
                    transmit(conn, "ERROR: duplicate name")
                else:
                    clients[conn] = rest
                    transmit(conn, "Hello " + rest)
            elif cmd == "GET_NAMES":
                if clients:
                    transmit(conn, "Connected clients: " + ", ".join(clients.values()))
            elif cmd == "MSG" and " " in rest:
                to, body = rest.split(" ", 1)
                dest = lookup(clients, to)
                if dest:
                    transmit(dest, clients.get(conn, "Unknown") + " sent " + body)
                else:
                    transmit(conn, "ERROR: user not found")
            elif cmd == "DNS":
                if rest in HOSTS:
                    transmit(conn, "DNS " + rest + " " + HOSTS[rest])
                else:
                    transmit(conn, "DNS ERROR unknown host")
            elif cmd == "EXIT":
                transmit(conn, "Bye!")


main()
