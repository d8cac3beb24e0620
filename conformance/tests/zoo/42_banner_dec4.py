"""PyChat - computer networks assignment 2 (chat server)

A select() server with 4-digit lengths that greets every new connection with a banner of
three frames and delivers each message as two frames (a heading, then the text alone).

Behaviours shown:
- dec4 framing both ways: four ASCII digits, zero-padded, then the payload
  ("0019Hi Alice! Chat away."); the length counts characters (len(text)).
- every recv(1024) is added to the client's byte buffer; whole frames are cut from the
  buffer in a loop, so half a frame just waits for its rest (nobody else waits) and two
  frames in one read are both handled.
- on connect, before any command, the banner: THREE frames, one send each:
      "*** PyChat server (CN assignment 2) ***"
      "Commands: NAME <name> | GET_NAMES | MSG <name> <text> | EXIT"
      "Pick a name first: NAME <yourname>"
- NAME Alice -> "Hi Alice! Chat away."; a taken name -> "Alice is already being used,
  pick a different name"; a second NAME from a named client -> "You already are Alice";
  NAME without a name -> "Usage: NAME <name>".
- GET_NAMES -> "People online: Alice, Bob" (connection order; words after GET_NAMES are
  ignored).
- MSG Bob HELLO -> Bob gets TWO frames, one after the other: "New message from Alice:"
  and then the text alone, "HELLO" (whole text, spaces kept). No ack to the sender.
  A message to yourself is delivered to yourself the same way.
  MSG before NAME -> "Pick a name before sending messages"; MSG without text ->
  "Usage: MSG <name> <text>".
- missing recipient -> "No one here is called Nobody".
- unknown command -> "Command DANCE does not exist".
- EXIT -> "Goodbye, see you soon", then the client is forgotten and its socket closed.
  A TCP close or a reset does the same without the goodbye.
- a length field that is not a number, or a payload that is not UTF-8, drops only that
  client. A failed send (the client has gone) is printed and ignored, so a client that
  connects and leaves before its banner went out is just removed.
- prints "PyChat listening on port PORT" and a line per connection.
- student mistake:
  * every accepted socket is put in the users dict with the name None until it sends NAME,
    and GET_NAMES builds its list with ", ".join(users.values()). While ANY connection
    has no name yet (just connected, or its NAME was refused as taken), a GET_NAMES from
    anybody (that connection itself included) raises TypeError ("sequence item 1:
    expected str instance, NoneType found") and the whole server dies. The student's own
    client always sends NAME first, as the banner tells it to. Deterministic: it depends
    only on whether an unnamed connection is open when GET_NAMES is handled.

Usage: python3 42_banner_dec4.py PORT
"""
import select
import socket
import sys

HEADER_LEN = 4

BANNER = [
    "*** PyChat server (CN assignment 2) ***",
    "Commands: NAME <name> | GET_NAMES | MSG <name> <text> | EXIT",
    "Pick a name first: NAME <yourname>",
]

sockets_list = []   # everything select() watches (server socket first)
users = {}          # socket -> name, None until the client sends NAME
buffers = {}        # socket -> bytes not handled yet


def make_frame(text):
    return (str(len(text)).zfill(HEADER_LEN) + text).encode()


def send(sock, text):
    try:
        sock.sendall(make_frame(text))
    except OSError as e:
        # client went away, the recv will notice
        print("send failed:", e)


def find_user(name):
    for s, n in users.items():
        if n == name:
            return s
    return None


def remove_client(sock):
    name = users.pop(sock, None)
    if sock in sockets_list:
        sockets_list.remove(sock)
    buffers.pop(sock, None)
    sock.close()
    print("disconnected:", name)


def cmd_name(sock, arg):
    if arg == "":
        send(sock, "Usage: NAME <name>")
        return
    name = arg.split()[0]
    if users[sock] is not None:
        send(sock, "You already are " + users[sock])
        return
    if name in users.values():
        send(sock, name + " is already being used, pick a different name")
        return
    users[sock] = name
    print("named:", name)
    send(sock, "Hi " + name + "! Chat away.")


def cmd_get_names(sock):
    # TODO: maybe sort them?
    send(sock, "People online: " + ", ".join(users.values()))


def cmd_msg(sock, arg):
    parts = arg.split(" ", 1)
    if len(parts) < 2 or parts[0] == "" or parts[1] == "":
        send(sock, "Usage: MSG <name> <text>")
        return
    if users[sock] is None:
        send(sock, "Pick a name before sending messages")
        return
    to_name, text = parts
    target = find_user(to_name)
    if target is None:
        send(sock, "No one here is called " + to_name)
        return
    # heading first, then the message by itself (looks nicer in the client)
    send(target, "New message from " + users[sock] + ":")
    send(target, text)


def handle(sock, text):
    """returns False if the client is gone afterwards"""
    print("recv:", repr(text))
    if " " in text:
        cmd, arg = text.split(" ", 1)
        arg = arg.strip()
    else:
        cmd, arg = text, ""

    if cmd == "NAME":
        cmd_name(sock, arg)
    elif cmd == "GET_NAMES":
        cmd_get_names(sock)
    elif cmd == "MSG":
        cmd_msg(sock, arg)
    elif cmd == "EXIT":
        send(sock, "Goodbye, see you soon")
        remove_client(sock)
        return False
    else:
        send(sock, "Command " + cmd + " does not exist")
    return True


def read_client(sock):
    try:
        data = sock.recv(1024)
    except OSError:
        data = b""
    if not data:
        remove_client(sock)
        return
    buffers[sock] += data
    while len(buffers[sock]) >= HEADER_LEN:
        buf = buffers[sock]
        try:
            length = int(buf[:HEADER_LEN].decode())
        except ValueError:
            print("bad header", buf[:HEADER_LEN], "- dropping client")
            remove_client(sock)
            return
        if len(buf) < HEADER_LEN + length:
            return  # wait for the rest
        payload = buf[HEADER_LEN:HEADER_LEN + length]
        buffers[sock] = buf[HEADER_LEN + length:]
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            print("not utf-8 - dropping client")
            remove_client(sock)
            return
        if not handle(sock, text):
            return


def main():
    if len(sys.argv) != 2:
        print("usage: python3 42_banner_dec4.py PORT")
        sys.exit(1)
    port = int(sys.argv[1])

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", port))
    server.listen(5)
    sockets_list.append(server)
    print("PyChat listening on port", port, flush=True)

    while True:
        readable, _, _ = select.select(sockets_list, [], [])
        for s in readable:
            if s is server:
                conn, addr = server.accept()
                print("new connection from", addr)
                sockets_list.append(conn)
                users[conn] = None
                buffers[conn] = b""
                for line in BANNER:
                    send(conn, line)
            elif s in sockets_list:
                read_client(s)


if __name__ == "__main__":
    main()
