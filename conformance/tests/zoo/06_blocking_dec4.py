"""Class-based chat server with 4-digit lengths that reads every frame to the end before
doing anything else.

Behaviours shown:
- dec4 framing both ways ("0011Hello Alice").
- recv_exact() loops recv() until the declared length has arrived, on a blocking socket.
  Correct for a frame that arrives in pieces, but while one client has sent half a frame
  (or declared more than it sent) the whole server waits inside that loop: no accept, no
  other client is served, until the rest arrives or that client closes.
- NAME -> "Hello Alice"; a taken name -> "ERROR Name exists".
- GET_NAMES -> "Connected clients: Alice Bob " (a space after every name).
- MSG -> "Alice: HELLO"; a message to yourself is delivered.
- missing recipient -> "ERROR User not found".
- unknown command -> "ERROR: command DANCE not supported". EXIT is not implemented, so it
  gets "ERROR: command EXIT not supported" and nothing else happens.
- a length field that is not digits drops that client; a payload that is not UTF-8 crashes
  the whole server.

Usage: python3 06_blocking_dec4.py PORT
"""
import select
import socket
import sys

HEADER = 4


class ChatServer:
    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(5)
        self.clients = []
        self.names = {}

    def recv_exact(self, conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def send(self, conn, text):
        conn.send(str(len(text)).zfill(HEADER).encode() + text.encode())

    def remove(self, conn):
        self.clients.remove(conn)
        self.names.pop(conn, None)
        conn.close()

    def lookup(self, name):
        for conn, n in self.names.items():
            if n == name:
                return conn
        return None

    def process(self, conn, text):
        cmd, _, rest = text.partition(" ")
        if cmd == "NAME":
            if self.lookup(rest):
                self.send(conn, "ERROR Name exists")
            else:
                self.names[conn] = rest
                self.send(conn, "Hello " + rest)
        elif cmd == "GET_NAMES":
            self.send(conn, "Connected clients: " + "".join(n + " " for n in self.names.values()))
        elif cmd == "MSG" and " " in rest:
            target, body = rest.split(" ", 1)
            dest = self.lookup(target)
            if dest is None:
                self.send(conn, "ERROR User not found")
            else:
                self.send(dest, f"{self.names.get(conn)}: {body}")
        else:
            self.send(conn, f"ERROR: command {cmd} not supported")

    def serve(self):
        while True:
            ready, _, _ = select.select([self.sock] + self.clients, [], [])
            for conn in ready:
                if conn is self.sock:
                    new_conn, _ = self.sock.accept()
                    self.clients.append(new_conn)
                    continue
                try:
                    header = self.recv_exact(conn, HEADER)
                    body = self.recv_exact(conn, int(header)) if header else None
                except (ValueError, ConnectionResetError):
                    body = None
                if body is None:
                    self.remove(conn)
                    continue
                self.process(conn, body.decode())


if __name__ == "__main__":
    server = ChatServer(int(sys.argv[1]))
    print("listening on", sys.argv[1], flush=True)
    server.serve()
