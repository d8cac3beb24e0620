"""Chat server whose length field is written in hexadecimal (4 lowercase hex digits).

The student's protocol file says: "every message starts with its length as 4 hex digits,
e.g. 000a for 10 characters, so one header can say up to 65535". Their client does the same
thing both ways: f"{len(data):04x}" out, int(header, 16) in.

Behaviours shown:
- hex4 framing both ways: f"{len(text):04x}" (zero-padded, lowercase) then the payload; the
  outgoing length counts characters (len(text)). Incoming: each recv(1024) is appended to
  that client's bytes buffer and every complete frame in it is handled (header read with
  int(header, 16), used as a byte count on the buffer), so half a frame just waits for its
  rest without holding anyone up, a header and payload written separately are joined, and
  two frames in one write give two replies. One select() loop.
- NAME -> "Hey Alice, you're in"; name taken -> "Alice is already taken, choose another";
  NAME without a name -> "Usage: NAME <name>".
- GET_NAMES -> "Users here: Alice, Bob" (registration order; extra words ignored);
  nobody named -> "Users here: none".
- MSG -> the recipient gets "Alice to you: HELLO" (whole text); a message to yourself is
  delivered to yourself; no acknowledgement. MSG before NAME -> "Set a name first with
  NAME"; MSG without text -> "Usage: MSG <name> <text>".
- missing recipient -> "No one named Nobody here".
- unknown command -> "Command DANCE not recognised".
- EXIT -> "Take care, Alice", then the name is forgotten and the connection closed.
- a header that int(x, 16) cannot read, or a payload that is not UTF-8, drops that client.

MISTAKE (the student's, on purpose): the duplicate-name check reuses the string that
GET_NAMES sends, `if new_name in names_string():`, a SUBSTRING test on "Alice, Bob" instead
of a test on the list. So any name that is part of a connected name (or of the ", "
joins) is refused as taken: with Alice online, "NAME Ali", "NAME lice", "NAME A" and
"NAME e" all get "Ali is already taken, choose another" and so on; with Alice and Bob
online, "NAME e," is too. Whole-name duplicates are refused correctly, and names that are
not part of the string ("Alicia") are accepted.

Usage: python3 48_hexlen_hex4.py PORT
"""
import select
import socket
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1])


def make_frame(data):
    # length in hex, 4 digits, same as in client.py
    return (f"{len(data):04x}" + data).encode()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((HOST, PORT))
server.listen()
print(f"[server] listening on {HOST}:{PORT}")

sockets_list = [server]
names = {}     # socket -> username
buffers = {}   # socket -> bytes not handled yet


def names_string():
    return ", ".join(names.values())


def find_user(username):
    for sock, n in names.items():
        if n == username:
            return sock
    return None


def remove_client(sock):
    if sock in sockets_list:
        sockets_list.remove(sock)
    names.pop(sock, None)
    buffers.pop(sock, None)
    sock.close()


def handle_command(sock, text):
    parts = text.split(" ", 2)
    command = parts[0]

    if command == "NAME":
        if len(parts) < 2 or parts[1] == "":
            sock.send(make_frame("Usage: NAME <name>"))
            return
        new_name = parts[1]
        if new_name in names_string():
            sock.send(make_frame(f"{new_name} is already taken, choose another"))
            return
        names[sock] = new_name
        sock.send(make_frame(f"Hey {new_name}, you're in"))

    elif command == "GET_NAMES":
        if names:
            sock.send(make_frame("Users here: " + names_string()))
        else:
            sock.send(make_frame("Users here: none"))

    elif command == "MSG":
        if sock not in names:
            sock.send(make_frame("Set a name first with NAME"))
            return
        if len(parts) < 3:
            sock.send(make_frame("Usage: MSG <name> <text>"))
            return
        target = find_user(parts[1])
        if target is None:
            sock.send(make_frame(f"No one named {parts[1]} here"))
            return
        target.send(make_frame(f"{names[sock]} to you: {parts[2]}"))

    elif command == "EXIT":
        who = names.get(sock, "stranger")
        sock.send(make_frame(f"Take care, {who}"))
        remove_client(sock)

    else:
        sock.send(make_frame(f"Command {command} not recognised"))


while True:
    read_sockets, _, _ = select.select(sockets_list, [], [])
    for sock in read_sockets:
        if sock == server:
            conn, addr = server.accept()
            print(f"[server] new connection from {addr}")
            sockets_list.append(conn)
            buffers[conn] = b""
            continue

        try:
            chunk = sock.recv(1024)
        except ConnectionError:
            chunk = b""
        if not chunk:
            print(f"[server] {names.get(sock, 'unnamed client')} disconnected")
            remove_client(sock)
            continue

        buffers[sock] += chunk
        # take out every complete message
        while sock in buffers and len(buffers[sock]) >= 4:
            header = buffers[sock][:4]
            try:
                length = int(header.decode(), 16)
            except (ValueError, UnicodeDecodeError):
                print("[server] bad header", header)
                remove_client(sock)
                break
            if len(buffers[sock]) < 4 + length:
                break  # rest not here yet
            payload = buffers[sock][4:4 + length]
            buffers[sock] = buffers[sock][4 + length:]
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                remove_client(sock)
                break
            handle_command(sock, text)
