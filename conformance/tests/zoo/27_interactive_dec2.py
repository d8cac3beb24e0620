"""Interactive chat server: it talks to you like a shell, with a "> " prompt frame after
every reply (and one on connect), a numbered names list and a HELP command.

Behaviours shown:
- dec2 framing both ways: two ASCII digits, zero-padded, then the payload; the length counts
  characters. Each client has a small state machine (waiting for a header / waiting for
  the body) fed from a per-client buffer, so half a frame just waits for its rest and
  nobody else is held up.
- on connect the server sends the prompt frame "> " ("02> ") before any command: the
  prompt doubles as a greeting.
- every reply goes through reply(), which sends the text as one frame and then the prompt
  "> " as a SECOND frame with a second send(). A command that gets no reply (a MSG
  delivered to someone else) gets no prompt either.
- NAME -> "Welcome aboard, Alice"; a taken name -> "Nickname Alice is already in use";
  NAME without exactly one word -> "Usage: NAME <nickname>". A second NAME renames.
- GET_NAMES -> a numbered list in ONE frame, registration order: "1. Alice\\n2. Bob"
  (no trailing newline); "No one is online" when nobody is named. Words after GET_NAMES
  are ignored.
- MSG -> the recipient gets "Alice says: HELLO" (whole text) followed by a "> " frame; the
  sender gets nothing back. A message to yourself is delivered to yourself the same way.
  MSG before NAME -> "Choose a nickname first: NAME <nickname>"; MSG without text ->
  "Usage: MSG <nickname> <text>".
- missing recipient -> "No user called Nobody".
- unknown command -> "Unknown command. Type HELP for a list."
- HELP -> the list of commands in one frame (one line per command).
- EXIT -> "Goodbye" (then "> ", since it goes through reply() like every reply), then the
  name is forgotten and the connection closed. A client that closes TCP (or resets) is
  forgotten the same way. Sends to a client that has gone are ignored.
- an empty frame ("00") is an empty command: "Unknown command. Type HELP for a list."
  (so a dec4 header "0010NAME Alice" gets that, then "Welcome aboard, Alice").
- a length field that is not digits drops that client; payloads are decoded with
  errors="replace", so invalid UTF-8 does not crash anything (it is an unknown command).
- a client that connects and leaves without a word, or closes or resets right after a
  command, is simply removed (failed sends are ignored).
- prints "listening on PORT" and a line per join / leave.
- student mistake the rubric never exercises:
  * the leave message on EXIT is printed with client.name + " left the chat" without a
    check, so EXIT from a client that never chose a nickname (name is None) raises
    TypeError and the whole server dies (the "Goodbye" and "> " frames go out first).
    The TCP-close path checks for a name, so an unnamed client that just closes is fine.

Usage: python3 27_interactive_dec2.py PORT
"""
import select
import socket
import sys

PROMPT = "> "

HELP_TEXT = ("NAME <nickname>\n"
             "GET_NAMES\n"
             "MSG <nickname> <text>\n"
             "HELP\n"
             "EXIT")


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.name = None
        self.buf = b""
        self.need = None    # None: waiting for the 2-digit header, else body length


def send_frame(sock, text):
    data = ("%02d" % len(text) + text).encode()
    try:
        sock.send(data)
    except OSError:
        pass  # gone, select() will tell us


def reply(client, text):
    send_frame(client.sock, text)
    send_frame(client.sock, PROMPT)


port = int(sys.argv[1])
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", port))
listener.listen(5)
print("listening on", port, flush=True)

clients = {}    # socket -> Client (dicts keep insertion order)


def by_name(name):
    for c in clients.values():
        if c.name == name:
            return c
    return None


def remove(client):
    del clients[client.sock]
    client.sock.close()


def run_command(client, line):
    """Returns False if the client has left."""
    parts = line.split(" ", 2)
    cmd = parts[0]
    if cmd == "NAME":
        words = line.split()
        if len(words) != 2:
            reply(client, "Usage: NAME <nickname>")
        elif by_name(words[1]) is not None:
            reply(client, "Nickname " + words[1] + " is already in use")
        else:
            client.name = words[1]
            print(client.name, "joined", flush=True)
            reply(client, "Welcome aboard, " + client.name)
    elif cmd == "GET_NAMES":
        named = [c.name for c in clients.values() if c.name]
        if not named:
            reply(client, "No one is online")
        else:
            lines = []
            for i, n in enumerate(named):
                lines.append(str(i + 1) + ". " + n)
            reply(client, "\n".join(lines))
    elif cmd == "MSG":
        if client.name is None:
            reply(client, "Choose a nickname first: NAME <nickname>")
        elif len(parts) < 3 or parts[2] == "":
            reply(client, "Usage: MSG <nickname> <text>")
        else:
            target = by_name(parts[1])
            if target is None:
                reply(client, "No user called " + parts[1])
            else:
                reply(target, client.name + " says: " + parts[2])
    elif cmd == "HELP":
        reply(client, HELP_TEXT)
    elif cmd == "EXIT":
        reply(client, "Goodbye")
        print(client.name + " left the chat", flush=True)
        remove(client)
        return False
    else:
        reply(client, "Unknown command. Type HELP for a list.")
    return True


def feed(client, data):
    client.buf += data
    while True:
        if client.need is None:
            if len(client.buf) < 2:
                return
            head = client.buf[:2]
            if not head.isdigit():
                print("bad header from", client.name, flush=True)
                remove(client)
                return
            client.need = int(head)
            client.buf = client.buf[2:]
        if len(client.buf) < client.need:
            return
        body = client.buf[:client.need]
        client.buf = client.buf[client.need:]
        client.need = None
        line = body.decode("utf-8", errors="replace").strip()
        if not run_command(client, line):
            return


while True:
    readable, _, _ = select.select([listener] + list(clients), [], [])
    for s in readable:
        if s is listener:
            conn, _ = listener.accept()
            clients[conn] = Client(conn)
            send_frame(conn, PROMPT)
            continue
        client = clients.get(s)
        if client is None:
            continue    # removed earlier in this round
        try:
            data = s.recv(1024)
        except OSError:
            data = b""
        if not data:
            if client.name:
                print(client.name + " left the chat", flush=True)
            remove(client)
            continue
        feed(client, data)
