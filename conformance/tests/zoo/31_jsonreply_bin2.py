"""Chat server with a 2-byte binary length whose every reply is a JSON object.

The student took "use a protocol file" to mean a length header for requests and JSON for
replies, so that "the client can parse the answer" (the client does json.loads on every frame).
Commands stay plain text.

Behaviours shown:
- bin2 framing both ways: struct.pack('>H', len(data)) then the UTF-8 payload (the length
  counts bytes). Each client has a bytes buffer; every recv(1024) is appended and complete
  frames are cut out of it in a while loop, so half a frame (even half a header) just waits
  for its rest and nobody else is held up; a header and its payload may come in separate
  writes; two frames in one write give two replies. One select() loop.
- every reply is json.dumps(...) of a dict (default separators, ensure_ascii on, so a
  non-ASCII text is sent as \\uXXXX escapes):
  * NAME -> {"status": "ok", "message": "Hello Alice"};
    a taken name -> {"status": "error", "message": "name already taken"}.
  * GET_NAMES -> {"users": ["Alice", "Bob"]} (registration order; {"users": []} when nobody
    is named; words after GET_NAMES are ignored).
  * MSG -> the recipient gets {"from": "Alice", "text": "HELLO"} (whole text, words joined
    again with single spaces); no acknowledgement to the sender. A message to yourself is
    delivered to yourself. MSG before NAME is delivered with "from": null.
  * missing recipient -> {"status": "error", "message": "user not found"}.
  * unknown command -> {"status": "error", "message": "unknown command"}.
  * EXIT -> {"status": "bye"}, then the name is forgotten and the connection closed.
- a TCP close or a reset removes the client and its name; send errors are swallowed (the
  dead client is removed when select next reports it), so a client that connects and
  leaves, or closes or resets right after a command, does not hurt the server.
- NAME again from a named client renames it (the old name is free again). EXIT followed by
  another frame in the same write: the rest is thrown away with the buffer.
- any two bytes are a valid header, so other framings are not refused: a dec2
  "10NAME Alice" (or a non-digit header) reads as a length of thousands and just waits in
  that client's buffer, with no reply; nobody else is affected.
- mistakes the rubric never reaches (each kills the WHOLE server, nothing catches them):
  * the command is split with text.split(" ") and the arguments are taken by index without
    checking how many there are: "NAME" with no name, or "MSG" with no recipient, raises
    IndexError. ("MSG Bob" with no text is fine: Bob gets {"from": "Alice", "text": ""}.)
  * a payload that is not valid UTF-8 (UnicodeDecodeError).

Usage: python3 31_jsonreply_bin2.py PORT
"""
import json
import select
import socket
import struct
import sys

HOST = "127.0.0.1"
HEADER_LEN = 2


def pack(obj):
    data = json.dumps(obj).encode("utf-8")
    return struct.pack(">H", len(data)) + data


def send_json(sock, obj):
    try:
        sock.sendall(pack(obj))
    except OSError as e:
        print("could not send to", sock.fileno(), e)


class ChatServer:
    def __init__(self, port):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind((HOST, port))
        self.server.listen(5)
        self.inputs = [self.server]
        self.buffers = {}
        self.users = {}   # socket -> name
        print("Server started on port", port, flush=True)

    def find_user(self, name):
        for sock, n in self.users.items():
            if n == name:
                return sock
        return None

    def remove(self, sock):
        if sock in self.inputs:
            self.inputs.remove(sock)
        self.buffers.pop(sock, None)
        name = self.users.pop(sock, None)
        print("client left:", name, flush=True)
        sock.close()

    def handle_command(self, sock, text):
        parts = text.split(" ")
        cmd = parts[0]

        if cmd == "NAME":
            name = parts[1]
            if self.find_user(name) is not None:
                send_json(sock, {"status": "error", "message": "name already taken"})
            else:
                self.users[sock] = name
                send_json(sock, {"status": "ok", "message": "Hello " + name})

        elif cmd == "GET_NAMES":
            send_json(sock, {"users": list(self.users.values())})

        elif cmd == "MSG":
            target = parts[1]
            body = " ".join(parts[2:])
            dest = self.find_user(target)
            if dest is None:
                send_json(sock, {"status": "error", "message": "user not found"})
            else:
                send_json(dest, {"from": self.users.get(sock), "text": body})

        elif cmd == "EXIT":
            send_json(sock, {"status": "bye"})
            self.remove(sock)
            return False

        else:
            send_json(sock, {"status": "error", "message": "unknown command"})
        return True

    def run(self):
        while True:
            readable, _, _ = select.select(self.inputs, [], [])
            for sock in readable:
                if sock is self.server:
                    conn, addr = self.server.accept()
                    self.inputs.append(conn)
                    self.buffers[conn] = b""
                    print("new client", addr, flush=True)
                    continue

                try:
                    chunk = sock.recv(1024)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    self.remove(sock)
                    continue

                self.buffers[sock] += chunk
                while len(self.buffers[sock]) >= HEADER_LEN:
                    buf = self.buffers[sock]
                    (length,) = struct.unpack(">H", buf[:HEADER_LEN])
                    if len(buf) < HEADER_LEN + length:
                        break
                    payload = buf[HEADER_LEN:HEADER_LEN + length]
                    self.buffers[sock] = buf[HEADER_LEN + length:]
                    if not self.handle_command(sock, payload.decode("utf-8")):
                        break


if __name__ == "__main__":
    ChatServer(int(sys.argv[1])).run()
