"""Chat server that disconnects clients that stay quiet too long, 2-digit lengths.

The student read that servers should not keep dead connections around, so their server
throws out any client that has sent nothing for 5 seconds. The check runs in the select()
loop: select() waits at most 1 second, and after every round the server looks at when each
client last sent something.

Behaviours shown:
- dec2 framing both ways: two ASCII digits, zero-padded ("%02d"), then the payload; the
  outgoing length counts characters (len(text)). Each recv(1024) goes into that client's
  bytes buffer and every complete frame in it is handled, so half a frame waits for its
  rest without holding anyone up, a header and payload written separately are joined, and
  two frames in one write give two replies. One select() loop.
- IDLE KICK: last_heard[sock] is set at accept and on every recv that returns data (any
  bytes, half a frame too). A connection (named or not) that has sent nothing for 5 seconds
  or more gets "Idle for 5 seconds, closing your connection" and is closed and forgotten
  (its name leaves the list). Since select() times out after 1 s, the kick comes 5 to 6 s
  after the client's last bytes. Receiving messages does not count as activity.
- commands are dispatched through a table: parts = text.split(" ", 2), then
  handler(sock, *parts[1:]).
- NAME -> "You are Alice now"; taken -> "Alice is occupied, try something else".
- GET_NAMES -> "Present: Alice, Bob" (registration order); nobody -> "Present: (empty)".
- MSG -> the recipient gets "(from Alice) HELLO" (whole text); a message to yourself is
  delivered to yourself; no acknowledgement. MSG before NAME -> "Pick a name first
  (NAME <name>)".
- missing recipient -> "Can't deliver, Nobody is not around".
- unknown command -> "What is DANCE? Unknown command".
- EXIT -> "Later, Alice", then the name is forgotten and the connection closed.
- a length field that is not two digits, or a payload that is not UTF-8, drops that client.

MISTAKE (the student's, on purpose): handler(sock, *parts[1:]) passes every word after the
command as an argument, and nothing catches the TypeError when the count is wrong. So a
command with the wrong number of words kills the WHOLE server: "GET_NAMES extra words"
(get_names() takes 1 positional argument but 3 were given), "EXIT now", "NAME Alice Smith",
"NAME" alone, "MSG Bob" without a text. With the right number of words (what the student's
own client sends) everything works.

Usage: python3 49_idlekick_dec2.py PORT
"""
import select
import socket
import sys
import time

IDLE_LIMIT = 5  # seconds

port = int(sys.argv[1])
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", port))
listener.listen(10)
print("Server up on port", port)

inputs = [listener]
usernames = {}    # sock -> name
inbox = {}        # sock -> bytes
last_heard = {}   # sock -> time of the last data from that client


def pack(text):
    return ("%02d" % len(text) + text).encode()


def lookup(name):
    for s in usernames:
        if usernames[s] == name:
            return s
    return None


def forget(sock):
    if sock in inputs:
        inputs.remove(sock)
    usernames.pop(sock, None)
    inbox.pop(sock, None)
    last_heard.pop(sock, None)
    sock.close()


def cmd_name(sock, name):
    if lookup(name) is not None:
        sock.send(pack(name + " is occupied, try something else"))
    else:
        usernames[sock] = name
        sock.send(pack("You are " + name + " now"))


def cmd_get_names(sock):
    if usernames:
        sock.send(pack("Present: " + ", ".join(usernames.values())))
    else:
        sock.send(pack("Present: (empty)"))


def cmd_msg(sock, to, text):
    if sock not in usernames:
        sock.send(pack("Pick a name first (NAME <name>)"))
        return
    dest = lookup(to)
    if dest is None:
        sock.send(pack("Can't deliver, " + to + " is not around"))
        return
    dest.send(pack("(from " + usernames[sock] + ") " + text))


def cmd_exit(sock):
    sock.send(pack("Later, " + usernames.get(sock, "friend")))
    forget(sock)


handlers = {
    "NAME": cmd_name,
    "GET_NAMES": cmd_get_names,
    "MSG": cmd_msg,
    "EXIT": cmd_exit,
}


def kick_idle():
    now = time.time()
    for sock in list(last_heard):
        if now - last_heard[sock] >= IDLE_LIMIT:
            print("kicking idle client", usernames.get(sock, "(no name)"))
            try:
                sock.send(pack("Idle for 5 seconds, closing your connection"))
            except OSError:
                pass  # already gone
            forget(sock)


while True:
    ready, _, _ = select.select(inputs, [], [], 1.0)
    for sock in ready:
        if sock is listener:
            conn, addr = listener.accept()
            inputs.append(conn)
            inbox[conn] = b""
            last_heard[conn] = time.time()
            continue
        if sock not in inputs:
            continue  # kicked or exited earlier in this round
        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        if not data:
            forget(sock)
            continue
        last_heard[sock] = time.time()
        inbox[sock] += data
        while sock in inbox and len(inbox[sock]) >= 2:
            head = inbox[sock][:2]
            if not head.isdigit():
                forget(sock)
                break
            size = int(head)
            if len(inbox[sock]) < 2 + size:
                break
            body = inbox[sock][2:2 + size]
            inbox[sock] = inbox[sock][2 + size:]
            try:
                line = body.decode()
            except UnicodeDecodeError:
                forget(sock)
                break
            parts = line.split(" ", 2)
            if parts[0] in handlers:
                handlers[parts[0]](sock, *parts[1:])
            else:
                sock.send(pack("What is " + parts[0] + "? Unknown command"))
    kick_idle()
