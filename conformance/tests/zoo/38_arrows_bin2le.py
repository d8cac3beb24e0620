"""Chat server that frames with struct.pack('H', ...) -- no byte-order character -- so the
2-byte length goes out in the machine's NATIVE order (little-endian on x86), and that shows
deliveries as "Alice -> Bob: HELLO".

The student's own client uses the very same send_msg()/recv_msg() pair, so on their machine
everything works and they never noticed that the header is not big-endian ("network order").

Behaviours shown:
- framing both ways: struct.pack('H', len(data)) + data, data = text.encode('utf-8'); the
  length counts the UTF-8 BYTES and is little-endian on x86 ("bin2le": 'NAME Alice' is sent
  as b'\\x0a\\x00NAME Alice'). Reading: one recv(2) for the header, struct.unpack('H', ...),
  then ONE recv(length) for the payload (a short read is accepted as the whole payload).
  One select() loop, blocking sockets, no per-client buffer:
  * a header that arrives alone: the recv(length) blocks the WHOLE server until the payload
    comes (or that client closes);
  * a header and payload written separately are fine (the recv waits for the payload);
  * two frames in one write give two replies (the second stays in the kernel buffer and
    select reports the socket again);
  * half a frame that contains the whole header (e.g. b'\\x11\\x00MSG Ali') is read at once
    as the command 'MSG Ali' (answered 'Usage: MSG <name> <text>'), nobody is held up.
- NAME -> "Nice to meet you, Alice"; a taken name (exact case) ->
  "Alice is already logged in, choose another name"; NAME without a name ->
  "Usage: NAME <name>"; a second NAME renames the client.
- GET_NAMES -> "2 users online: Alice, Bob" (registration order, ", "; extra words after
  GET_NAMES are ignored; nobody named: "0 users online: " -- or a bigger count, see below).
- MSG -> the recipient gets "Alice -> Bob: HELLO" (whole text); a message to yourself is
  delivered ("Alice -> Alice: me"); no acknowledgement to the sender.
  MSG before NAME -> "Set a name first (NAME <name>)"; MSG without text ->
  "Usage: MSG <name> <text>".
- unknown command -> "Command not recognised: DANCE".
- EXIT -> "Goodbye Alice", then the name is forgotten and the connection closed.
- a TCP close or reset removes the client and its name; send errors to a client that is
  gone (broken pipe, reset) are caught, so a connection that connects and leaves, or that
  closes or resets right after a command, does not hurt the server.

Mistakes (the student's, on purpose):
- MISTAKE 1 (wrong socket for the missing-recipient error): the recipient is looked up with
  `for conn, name in clients.items()`, and the error branch then does send_msg(conn, ...)
  instead of send_msg(sock, ...). `conn` is left holding the LAST client of the dict, i.e.
  the most recently NAMED client still connected. So "No user called Nobody is online" goes
  to the sender only when the sender is the last one who named; otherwise another client
  gets it and the sender gets nothing at all. (Always the same client for the same history:
  deterministic.)
- MISTAKE 2 (count of connections, not users): the "N users online" count is
  len(sockets_list) - 1, i.e. every open connection including ones that never sent NAME
  (e.g. "3 users online: Alice, Bob" while a third, unnamed, connection is open).
- not handled (kills the WHOLE server, nothing catches it):
  * a header that arrives as a single byte (recv(2) returns 1 byte): struct.error
    "unpack requires a buffer of 2 bytes";
  * a payload that is not valid UTF-8: UnicodeDecodeError.
- any two bytes are a valid header, so other framings are not refused: a dec2 '10NAME Alice'
  reads as a length of 0x3031 = 12337 and the single recv returns 'NAME Alice', which is
  then answered (in bin2le); a big-endian bin2 b'\\x00\\x0aNAME Alice' reads as 2560 and is
  answered the same way.

Usage: python3 38_arrows_bin2le.py PORT
"""
import select
import socket
import struct
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1])


def send_msg(sock, text):
    data = text.encode("utf-8")
    try:
        sock.sendall(struct.pack("H", len(data)) + data)
    except (BrokenPipeError, ConnectionResetError):
        print("could not send to a client")


def recv_msg(sock):
    header = sock.recv(2)
    if not header:
        return None
    length = struct.unpack("H", header)[0]
    data = sock.recv(length)
    return data.decode("utf-8")


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((HOST, PORT))
server.listen()
print(f"Listening for connections on {HOST}:{PORT}...")

sockets_list = [server]
clients = {}  # socket -> name


def remove_client(sock):
    if sock in sockets_list:
        sockets_list.remove(sock)
    if sock in clients:
        print(f"{clients[sock]} disconnected")
        del clients[sock]
    sock.close()


while True:
    read_sockets, _, exception_sockets = select.select(sockets_list, [], sockets_list)

    for sock in read_sockets:
        if sock == server:
            conn, addr = server.accept()
            sockets_list.append(conn)
            print(f"Accepted new connection from {addr[0]}:{addr[1]}")
            continue

        try:
            message = recv_msg(sock)
        except ConnectionResetError:
            message = None
        if message is None:
            remove_client(sock)
            continue

        print(f"received: {message!r}")
        parts = message.split(" ", 2)
        command = parts[0]

        if command == "NAME":
            if len(parts) < 2 or parts[1] == "":
                send_msg(sock, "Usage: NAME <name>")
            elif parts[1] in clients.values():
                send_msg(sock, f"{parts[1]} is already logged in, choose another name")
            else:
                clients[sock] = parts[1]
                send_msg(sock, f"Nice to meet you, {parts[1]}")

        elif command == "GET_NAMES":
            count = len(sockets_list) - 1
            send_msg(sock, f"{count} users online: " + ", ".join(clients.values()))

        elif command == "MSG":
            if sock not in clients:
                send_msg(sock, "Set a name first (NAME <name>)")
            elif len(parts) < 3:
                send_msg(sock, "Usage: MSG <name> <text>")
            else:
                target = parts[1]
                target_sock = None
                for conn, name in clients.items():
                    if name == target:
                        target_sock = conn
                if target_sock is not None:
                    send_msg(target_sock, f"{clients[sock]} -> {target}: {parts[2]}")
                else:
                    send_msg(conn, f"No user called {target} is online")

        elif command == "EXIT":
            send_msg(sock, f"Goodbye {clients.get(sock, '')}".strip())
            remove_client(sock)

        else:
            send_msg(sock, f"Command not recognised: {command}")

    for sock in exception_sockets:
        remove_client(sock)
