"""Chat server tested with telnet: no length field, case-insensitive commands, "\\r\\n" after
every reply, and a MSG to an unknown name that goes to the whole room instead.

Behaviours shown:
- no length field: one recv(1024) is one command; whitespace around it (the "\\r\\n" that
  telnet sends, or "\\n", or nothing) is stripped. Every reply is text ending in "\\r\\n".
- commands are case-insensitive ("name Alice", "Get_Names", "msg Bob hi" all work); names
  keep their case and are compared exactly.
- NAME -> "HELLO Alice"; a taken name -> "NAME_TAKEN" (your own current name counts as
  taken); a second NAME renames the client, keeping its place in the list.
- GET_NAMES -> "Alice;Bob" (semicolons, registration order; extra words ignored; an empty
  list is just "\\r\\n").
- MSG -> the recipient gets "(Alice) HELLO" (the words of the text joined by single spaces);
  a message to yourself is delivered to yourself. There is no acknowledgement to the sender.
- MISTAKE: a MSG to a name nobody has is treated as a message to the room: every OTHER named
  client gets "(Alice) hello" and the sender gets no reply at all (so when nobody else is
  named, the message just vanishes).
- MSG before NAME is delivered with the sender shown as "(None)".
- unknown command, or NAME/MSG with too few words -> "?? " + the line as typed
  ("?? DANCE", "?? MSG Alic").
- EXIT is silent: the name is forgotten and the connection closed. A client that closes or
  resets its TCP connection is forgotten the same way.
- input that is not UTF-8 is decoded with errors ignored.
- MISTAKE the rubric never exercises: the first word is taken with line.split()[0], so a
  command that is empty after stripping (a bare Enter in telnet, only spaces, or only bytes
  that are not UTF-8) raises IndexError and kills the whole server.
- prints "Server up on port PORT" and one line per connection.

Usage: python3 29_telnet_raw.py PORT
"""
import select
import socket
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1])

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((HOST, PORT))
server.listen(10)
print("Server up on port", PORT, flush=True)

sockets = [server]
nicknames = {}  # socket -> nickname


def reply(sock, text):
    # \r\n so it looks right in telnet
    sock.send((text + "\r\n").encode())


def sock_of(name):
    for s, n in nicknames.items():
        if n == name:
            return s
    return None


def close_client(sock):
    if sock in sockets:
        sockets.remove(sock)
    nicknames.pop(sock, None)
    sock.close()


while True:
    readable, _, _ = select.select(sockets, [], [])
    for sock in readable:
        if sock is server:
            conn, addr = server.accept()
            print("connection from", addr, flush=True)
            sockets.append(conn)
            continue

        try:
            data = sock.recv(1024)
        except OSError:
            data = b""
        if not data:
            close_client(sock)
            continue

        line = data.decode("utf-8", errors="ignore").strip()
        words = line.split()
        cmd = words[0].upper()

        if cmd == "NAME" and len(words) >= 2:
            name = words[1]
            if sock_of(name) is not None:
                reply(sock, "NAME_TAKEN")
            else:
                nicknames[sock] = name
                reply(sock, "HELLO " + name)

        elif cmd == "GET_NAMES":
            reply(sock, ";".join(nicknames.values()))

        elif cmd == "MSG" and len(words) >= 3:
            sender = nicknames.get(sock)
            text = " ".join(words[2:])
            dest = sock_of(words[1])
            if dest is not None:
                reply(dest, "(%s) %s" % (sender, text))
            else:
                # no one with that name -> send it to everybody in the room
                for s in list(nicknames):
                    if s is not sock:
                        reply(s, "(%s) %s" % (sender, text))

        elif cmd == "EXIT":
            print(nicknames.get(sock), "left", flush=True)
            close_client(sock)

        else:
            reply(sock, "?? " + line)
