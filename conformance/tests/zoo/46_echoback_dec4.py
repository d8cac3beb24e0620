"""Chat server - computer networks, assignment 2
Protocol (protocol.txt, same for my client): every message is a 4 digit length, zero padded,
then the text. e.g. 0010NAME Alice

DEBUG MODE: while testing I had trouble seeing which command the server actually got, so the
server first sends every command back to the client that sent it ("you sent: NAME Alice") as
its own frame, and then the real answer. My client prints both. (I left it on.)

Behaviours (fixture notes):
- dec4 both ways (the length counts characters). Each client has its own buffer; whole frames
  are cut from it in a loop, so a half frame only waits in its own buffer and two frames in
  one read are both handled.
- before answering ANY command the sender gets an echo frame "you sent: <command>"
  (exactly the text of the frame), then the reply:
    NAME Alice      -> "Hey Alice, you're in"
    taken name      -> "Alice is taken, try something else"
    NAME twice      -> "You already have a name (Alice)"
    GET_NAMES       -> "Here now: Alice Bob" (registration order, extra words ignored;
                       "Here now: (nobody)" when nobody is named)
    MSG Bob HELLO   -> Bob gets "Alice to you: HELLO" (no echo for Bob, no ack for Alice);
                       a message to yourself is delivered to yourself
    MSG before NAME -> "Tell me your NAME first"
    MSG without text-> "Usage: MSG <name> <message>"
    EXIT            -> "Later, Alice", then forgotten and closed
    anything else   -> "What is DANCE? Unknown command"
- a TCP close or reset forgets the client. A length field that is not a number drops only
  that client. Invalid UTF-8 is decoded with errors="replace".
- STUDENT MISTAKE: MSG looks the recipient up with clients_by_name[target] without checking
  that the name exists, so "MSG Nobody hello" raises KeyError and the whole server dies
  (after the echo frame "you sent: MSG Nobody hello" has already gone out).

Usage: python3 46_echoback_dec4.py PORT
"""
import select
import socket
import sys

HEADER = 4


def make_frame(text):
    return (str(len(text)).zfill(HEADER) + text).encode("utf-8")


def send_frame(sock, text):
    try:
        sock.sendall(make_frame(text))
    except OSError as e:
        print("send failed:", e)


port = int(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(10)
print("server listening on port", port, flush=True)

sockets_list = [server]
buffers = {}            # socket -> str not handled yet
names = {}              # socket -> name
clients_by_name = {}    # name -> socket


def remove_client(sock):
    if sock in sockets_list:
        sockets_list.remove(sock)
    buffers.pop(sock, None)
    name = names.pop(sock, None)
    if name is not None:
        del clients_by_name[name]
    sock.close()
    print("client removed:", name)


def handle_command(sock, text):
    # DEBUG: show the client what we got
    send_frame(sock, "you sent: " + text)

    parts = text.split(" ")
    cmd = parts[0]

    if cmd == "NAME":
        if len(parts) < 2 or parts[1] == "":
            send_frame(sock, "Usage: NAME <name>")
            return
        new_name = parts[1]
        if sock in names:
            send_frame(sock, "You already have a name (" + names[sock] + ")")
        elif new_name in clients_by_name:
            send_frame(sock, new_name + " is taken, try something else")
        else:
            names[sock] = new_name
            clients_by_name[new_name] = sock
            send_frame(sock, "Hey " + new_name + ", you're in")

    elif cmd == "GET_NAMES":
        if len(clients_by_name) == 0:
            send_frame(sock, "Here now: (nobody)")
        else:
            send_frame(sock, "Here now: " + " ".join(clients_by_name.keys()))

    elif cmd == "MSG":
        if sock not in names:
            send_frame(sock, "Tell me your NAME first")
            return
        if len(parts) < 3:
            send_frame(sock, "Usage: MSG <name> <message>")
            return
        target = parts[1]
        message = " ".join(parts[2:])
        target_sock = clients_by_name[target]
        send_frame(target_sock, names[sock] + " to you: " + message)

    elif cmd == "EXIT":
        if sock in names:
            send_frame(sock, "Later, " + names[sock])
        else:
            send_frame(sock, "Later")
        remove_client(sock)

    else:
        send_frame(sock, "What is " + cmd + "? Unknown command")


while True:
    readable, _, _ = select.select(sockets_list, [], [])
    for s in readable:
        if s is server:
            conn, addr = server.accept()
            sockets_list.append(conn)
            buffers[conn] = ""
            print("new connection", addr)
            continue
        if s not in sockets_list:
            continue   # removed earlier in this round
        try:
            data = s.recv(1024)
        except ConnectionError:
            data = b""
        if not data:
            remove_client(s)
            continue
        buffers[s] += data.decode("utf-8", errors="replace")
        # cut all complete frames
        while s in buffers and len(buffers[s]) >= HEADER:
            try:
                length = int(buffers[s][:HEADER])
            except ValueError:
                print("bad header from", names.get(s), repr(buffers[s][:HEADER]))
                remove_client(s)
                break
            if len(buffers[s]) < HEADER + length:
                break   # wait for the rest
            text = buffers[s][HEADER:HEADER + length]
            buffers[s] = buffers[s][HEADER + length:]
            print("got", repr(text), "from", names.get(s))
            handle_command(s, text)
