"""Unframed chat server made to be used from telnet / nc: it prompts for a name on connect,
refuses everything until you have one, and ends every reply with a newline.

Behaviours shown:
- no length field: one recv(1024) is one command; the trailing "\\r\\n" or "\\n" that
  telnet/nc add is stripped. Every reply is text ending in "\\n".
- on connect the server sends the prompt "Enter your name with NAME <name>\\n" before any
  command.
- every command before NAME other than NAME (GET_NAMES, MSG, EXIT, anything) gets
  "Please register first\\n".
- NAME -> "Hi Alice, welcome!\\n"; a taken name -> "That name is taken\\n";
  NAME without a name -> "Usage: NAME <name>\\n"; a second NAME renames the client.
- GET_NAMES -> a multi-line reply "Users online:\\nAlice\\nBob\\n" sent with ONE send call
  (registration order; extra words after GET_NAMES ignored).
- MSG -> the recipient gets "<Alice> HELLO\\n" (whole text); a message to yourself is
  delivered to yourself. MSG without text -> "Usage: MSG <name> <message>\\n".
- missing recipient -> "Nobody is not online\\n"; unknown command -> "Unknown command: DANCE\\n".
- EXIT (named) -> "Goodbye\\n", the name is forgotten and the connection closed. A client
  that closes TCP (or resets) is forgotten the same way. A reply that cannot be sent
  because the client has gone is silently dropped.
- prints nothing at start (nor anything else but "<name> left").
- student mistakes the rubric never exercises:
  * only the trailing newline is stripped, so two lines arriving in one recv (a paste, or a
    client that writes two commands back to back) are treated as ONE command with a newline
    inside: "NAME Alice\\nGET_NAMES\\n" registers the name "Alice\\nGET_NAMES", which then
    shows up in every list as two lines and can never be messaged; "GET_NAMES\\nGET_NAMES\\n"
    in one write gets the single reply "Unknown command: GET_NAMES\\nGET_NAMES\\n".
  * data.decode() is not guarded: input that is not UTF-8 crashes the whole server.

Usage: python3 24_prompt_line.py PORT
"""
import select
import socket
import sys

PROMPT = "Enter your name with NAME <name>"

port = int(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(10)

sockets = [server]
names = {}   # socket -> name


def reply(sock, text):
    try:
        sock.send((text + "\n").encode())
    except OSError:
        # client already gone, select will tell us next round
        pass


def find_user(name):
    for s in names:
        if names[s] == name:
            return s
    return None


def disconnect(sock):
    sockets.remove(sock)
    if sock in names:
        print(names[sock], "left")
        del names[sock]
    sock.close()


while True:
    ready, _, _ = select.select(sockets, [], [])
    for sock in ready:
        if sock == server:
            client, address = server.accept()
            sockets.append(client)
            reply(client, PROMPT)
            continue

        try:
            data = sock.recv(1024)
        except OSError:
            data = b""
        if not data:
            disconnect(sock)
            continue

        line = data.decode().rstrip("\r\n")
        cmd = line.split(" ")[0]

        if cmd != "NAME" and sock not in names:
            reply(sock, "Please register first")
            continue

        if cmd == "NAME":
            parts = line.split(" ", 1)
            if len(parts) < 2 or parts[1] == "":
                reply(sock, "Usage: NAME <name>")
            elif find_user(parts[1]) is not None:
                reply(sock, "That name is taken")
            else:
                names[sock] = parts[1]
                reply(sock, "Hi " + parts[1] + ", welcome!")
        elif cmd == "GET_NAMES":
            reply(sock, "Users online:\n" + "\n".join(names.values()))
        elif cmd == "MSG":
            parts = line.split(" ", 2)
            if len(parts) < 3:
                reply(sock, "Usage: MSG <name> <message>")
                continue
            dest = find_user(parts[1])
            if dest is None:
                reply(sock, parts[1] + " is not online")
            else:
                reply(dest, "<" + names[sock] + "> " + parts[2])
        elif cmd == "EXIT":
            reply(sock, "Goodbye")
            disconnect(sock)
        else:
            reply(sock, "Unknown command: " + cmd)
