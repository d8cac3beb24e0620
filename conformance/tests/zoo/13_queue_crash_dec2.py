"""Chat server built on the select() tutorial's message queues, that dies when a reply is
still queued for a client that has just gone.

Behaviours shown:
- dec2 framing both ways; recv(2) header, one recv(n) payload.
- replies are put in a per-client queue.Queue and sent when select() reports the socket
  writable; each round first sends what is queued, then reads. The loop sleeps 0.02 s per
  round "to save CPU", so a reply goes out on the round after its command was read.
- when a client closes, it is removed from the input list and closed, but not from the
  output list. A socket stays in the output list until a round finds its queue empty, so if
  the client sent a command that gets a reply and closed right away (before that reply
  went out, i.e. within the 0.02 s), the reply is sent to the departed peer, the close is
  seen in the same round, and the next select() gets the closed socket:
  "ValueError: file descriptor cannot be a negative integer (-1)". The whole server dies,
  every time. A client that closes while idle (nothing queued, or after reading its last
  reply) is removed fine.
- NAME -> "Hello Alice"; a taken name -> "Name already exists".
- GET_NAMES -> "The clients are: Alice Bob".
- MSG -> "Alice: HELLO"; "MSG ALL <text>" is a broadcast to everyone else; a message to
  yourself is delivered.
- unknown command -> "Unknown command, try again"; missing recipient -> "That user does not exist".
- EXIT is silent: the name is forgotten and the connection closed (cleanly).
- a length field that is not digits, or a payload that is not UTF-8, drops that client
  (through the same close path as above, so it is safe when nothing is queued for it).

Usage: python3 13_queue_crash_dec2.py PORT
"""
import queue
import select
import socket
import sys
import time

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(5)
print("listening on", sys.argv[1], flush=True)

inputs = [server]
outputs = []
message_queues = {}
nicknames = {}


def enqueue(sock, text):
    message_queues[sock].put((str(len(text)).zfill(2) + text).encode())
    if sock not in outputs:
        outputs.append(sock)


def process(s, data):
    parts = data.split(" ", 2)
    if parts[0] == "NAME" and len(parts) == 2:
        if parts[1] in nicknames.values():
            enqueue(s, "Name already exists")
        else:
            nicknames[s] = parts[1]
            enqueue(s, "Hello " + parts[1])
    elif parts[0] == "GET_NAMES":
        enqueue(s, "The clients are: " + " ".join(nicknames.values()))
    elif parts[0] == "MSG" and len(parts) == 3:
        sender = nicknames.get(s)
        targets = [c for c, n in nicknames.items() if n == parts[1]]
        if parts[1] == "ALL":
            targets = [c for c in nicknames if c is not s]
        elif not targets:
            enqueue(s, "That user does not exist")
        for t in targets:
            enqueue(t, f"{sender}: {parts[2]}")
    elif parts[0] == "EXIT":
        inputs.remove(s)
        if s in outputs:
            outputs.remove(s)
        nicknames.pop(s, None)
        s.close()
    else:
        enqueue(s, "Unknown command, try again")


while inputs:
    readable, writable, _ = select.select(inputs, outputs, [])
    for s in writable:
        try:
            next_msg = message_queues[s].get_nowait()
        except queue.Empty:
            outputs.remove(s)
        else:
            s.send(next_msg)
    for s in readable:
        if s is server:
            connection, client_address = s.accept()
            inputs.append(connection)
            message_queues[connection] = queue.Queue()
            continue
        try:
            header = s.recv(2)
            data = s.recv(int(header)).decode() if header.isdigit() else None
        except (ConnectionResetError, UnicodeDecodeError):
            data = None
        if data is not None:
            process(s, data)
        else:
            inputs.remove(s)
            nicknames.pop(s, None)
            s.close()
    time.sleep(0.02)
