"""Chat server with 4-digit lengths, letters-only names, and anything unknown echoed as chat.

Behaviours shown:
- dec4 framing both ways ("0011Hello Alice"); recv(4) header, single recv(n) payload.
- names must be letters only: "NAME Aar5001" -> "The name must consist of only letters".
- NAME -> "Hello Alice"; a taken name -> "ERROR: name already in use".
- GET_NAMES -> "Alice Bob " (no prefix, a space after every name, registration order).
- MSG -> "Alice sent HELLO"; a message to yourself is delivered.
- missing recipient -> "ERROR: Nobody is not connected".
- anything that is not NAME/GET_NAMES/MSG is treated as a chat line and echoed back to its
  sender: "DANCE" -> "Alice: DANCE". EXIT is not implemented, so it is echoed too
  ("Alice: EXIT") and the connection stays open.
- a bad length field or a payload that is not UTF-8 drops that client only.

Usage: python3 04_echo_chat_dec4.py PORT
"""
import select
import socket
import sys


def fmt(text):
    return str(len(text)).rjust(4, "0").encode() + text.encode()


def get_line(conn):
    head = conn.recv(4)
    if not head:
        return None
    size = int(head)
    return conn.recv(size).decode()


def handle_client(conn, line, nick_of):
    parts = line.split(" ", 2)
    me = nick_of.get(conn, "Anonymous")
    if parts[0] == "NAME" and len(parts) == 2:
        wanted = parts[1]
        if not wanted.isalpha():
            conn.send(fmt("The name must consist of only letters"))
        elif wanted in nick_of.values():
            conn.send(fmt("ERROR: name already in use"))
        else:
            nick_of[conn] = wanted
            conn.send(fmt("Hello " + wanted))
    elif parts[0] == "GET_NAMES":
        conn.send(fmt("".join(n + " " for n in nick_of.values())))
    elif parts[0] == "MSG" and len(parts) == 3:
        for other, nick in nick_of.items():
            if nick == parts[1]:
                other.send(fmt(me + " sent " + parts[2]))
                break
        else:
            conn.send(fmt("ERROR: " + parts[1] + " is not connected"))
    else:
        conn.send(fmt(me + ": " + line))


def run(port):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(5)
    print("listening on", port, flush=True)
    everyone = [lsock]
    nick_of = {}
    while True:
        rlist, _, _ = select.select(everyone, [], [])
        for conn in rlist:
            if conn == lsock:
                new, _ = lsock.accept()
                everyone.append(new)
                continue
            try:
                line = get_line(conn)
            except (ValueError, UnicodeDecodeError, ConnectionResetError):
                line = None
            if line is None:
                everyone.remove(conn)
                nick_of.pop(conn, None)
                conn.close()
            else:
                handle_client(conn, line, nick_of)


if __name__ == "__main__":
    run(int(sys.argv[1]))
