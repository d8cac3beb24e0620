"""Chat server that keeps a text buffer per client and answers in its own casual words.

Behaviours shown:
- dec2 framing both ways: two ASCII digits, zero-padded, then the payload; the length counts
  characters. Every recv() chunk is decoded to str at once and appended to that client's
  str buffer, and frames are cut out of the buffer, so a half frame just waits for its rest
  (nobody else is held up), a header and its payload may come in separate writes, and two
  frames in one write give two replies.
- NAME -> "You are now known as Alice"; a taken name -> "Name in use, pick another one".
- GET_NAMES -> the Python repr of the names list, "['Alice', 'Bob']" (registration order;
  "[]" when nobody is named; extra words after GET_NAMES are ignored).
- MSG -> the recipient gets "[Alice] HELLO" (whole text); a message to yourself is delivered
  to yourself like any other; no acknowledgement to the sender.
- missing recipient -> "Can't find Nobody"; unknown command ->
  "Huh? Try NAME, GET_NAMES, MSG or EXIT".
- EXIT -> "See ya", then the name is forgotten and the connection closed.
- a TCP close (or reset) removes the client and its name.
- a length field that is not two digits drops that client only (a dec3 "010NAME Alice" gets
  the unknown-command reply for the one-character command "0", then "NA" drops it).
- prints "Server is up on port N" without flushing (a pipe may show nothing).
- mistakes the rubric never reaches:
  * a chunk that is not valid UTF-8 (data.decode() raises UnicodeDecodeError) kills the whole
    server;
  * MSG before NAME kills the whole server (names[s] raises KeyError).

Usage: python3 21_pylist_dec2.py PORT
"""
import socket
import select
import sys

HEADER = 2

port = int(sys.argv[1])

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(10)
print("Server is up on port", port)

inputs = [server]
names = {}    # sock -> name
buffers = {}  # sock -> text received so far


def send(sock, text):
    header = str(len(text)).rjust(HEADER, "0")
    sock.sendall((header + text).encode())


def remove(sock):
    if sock in inputs:
        inputs.remove(sock)
    if sock in names:
        print(names[sock], "left")
        del names[sock]
    buffers.pop(sock, None)
    sock.close()


def who(name):
    for sock in names:
        if names[sock] == name:
            return sock
    return None


def process(sock, line):
    # returns False if the client is gone after this command
    cmd, _, rest = line.partition(" ")
    if cmd == "NAME":
        wanted = rest.strip()
        if who(wanted) is not None:
            send(sock, "Name in use, pick another one")
        else:
            names[sock] = wanted
            send(sock, "You are now known as " + wanted)
    elif cmd == "GET_NAMES":
        send(sock, str(list(names.values())))
    elif cmd == "MSG":
        target, _, text = rest.partition(" ")
        dest = who(target)
        if dest is None:
            send(sock, "Can't find " + target)
        else:
            send(dest, "[" + names[sock] + "] " + text)
    elif cmd == "EXIT":
        send(sock, "See ya")
        remove(sock)
        return False
    else:
        send(sock, "Huh? Try NAME, GET_NAMES, MSG or EXIT")
    return True


while True:
    ready, _, _ = select.select(inputs, [], [])
    for sock in ready:
        if sock == server:
            conn, addr = server.accept()
            print("connection from", addr)
            inputs.append(conn)
            buffers[conn] = ""
            continue

        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            remove(sock)
            continue

        buffers[sock] += data.decode()

        while len(buffers[sock]) >= HEADER:
            head = buffers[sock][:HEADER]
            if not head.isdigit():
                remove(sock)
                break
            size = int(head)
            if len(buffers[sock]) < HEADER + size:
                break  # wait for the rest
            line = buffers[sock][HEADER:HEADER + size]
            buffers[sock] = buffers[sock][HEADER + size:]
            if not process(sock, line):
                break
