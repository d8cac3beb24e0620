"""Chat server with a table of command handlers, BLOCK and BROADCAST extras, and an EXIT
handler that closes the socket before the loop sends its reply.

Behaviours shown:
- dec2 framing both ways; recv(2) header, one recv(n) payload.
- each handler returns the reply text and the main loop sends it.
- NAME -> "HELLO Alice"; a taken name -> "ERROR Name in use".
- GET_NAMES -> "Alice Bob " (a space after every name).
- MSG -> "Alice sent HELLO"; a message to yourself is delivered.
- extras: "BLOCK <name>" -> "Blocked <name>" (messages from that name then get
  "ERROR <name> has blocked you"); "BROADCAST <text>" sends "Alice sent <text>" to everyone
  else and answers "Broadcast sent".
- unknown command -> "ERROR Bad command"; missing recipient -> "ERROR Nobody not found".
- EXIT: the handler forgets the name, removes and closes the socket and returns "BYE"; the
  main loop then sends "BYE" on the closed socket: "OSError: [Errno 9] Bad file descriptor"
  and the whole server dies. Every EXIT, every time.
- a length field that is not digits drops that client; a payload that is not UTF-8 crashes
  the whole server.

Usage: python3 20_block_dec2.py PORT
"""
import select
import socket
import sys

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(5)
print("listening on", sys.argv[1], flush=True)
sockets = [listener]
names = {}
blocks = {}   # name -> set of names it blocked


def pack(text):
    return ("%02d" % len(text) + text).encode()


def find(name):
    return next((s for s, n in names.items() if n == name), None)


def do_name(s, arg):
    if find(arg):
        return "ERROR Name in use"
    names[s] = arg
    blocks.setdefault(arg, set())
    return "HELLO " + arg


def do_get_names(s, arg):
    return "".join(n + " " for n in names.values())


def do_msg(s, arg):
    target, _, text = arg.partition(" ")
    dest = find(target)
    if dest is None:
        return "ERROR " + target + " not found"
    if names.get(s) in blocks.get(target, ()):
        return "ERROR " + target + " has blocked you"
    dest.send(pack(f"{names.get(s)} sent {text}"))


def do_block(s, arg):
    blocks.setdefault(names.get(s), set()).add(arg)
    return "Blocked " + arg


def do_broadcast(s, arg):
    for other in names:
        if other is not s:
            other.send(pack(f"{names.get(s)} sent {arg}"))
    return "Broadcast sent"


def do_exit(s, arg):
    names.pop(s, None)
    sockets.remove(s)
    s.close()
    return "BYE"


handlers = {"NAME": do_name, "GET_NAMES": do_get_names, "MSG": do_msg,
            "BLOCK": do_block, "BROADCAST": do_broadcast, "EXIT": do_exit}

while True:
    ready, _, _ = select.select(sockets, [], [])
    for s in ready:
        if s is listener:
            sockets.append(listener.accept()[0])
            continue
        try:
            hdr = s.recv(2)
        except ConnectionResetError:
            hdr = b""
        if not hdr.isdigit():
            sockets.remove(s)
            names.pop(s, None)
            s.close()
            continue
        cmd, _, arg = s.recv(int(hdr)).decode().partition(" ")
        if cmd in handlers:
            answer = handlers[cmd](s, arg)
        else:
            answer = "ERROR Bad command"
        if answer:
            s.send(pack(answer))
