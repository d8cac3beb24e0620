"""Chat server with a 4-character length field padded with SPACES instead of zeros
(select() loop, one record per client).

Behaviours shown:
- outgoing frames: the header is built with f"{len(msg):4}", so it is 4 characters wide
  but right-aligned with spaces: "  13Welcome Alice", "  24Users online: Alice, Bob",
  "  17From Alice: HELLO" (where the course expects "0013Welcome Alice"). The length counts
  characters (len(msg)).
- incoming frames: every recv(1024) is appended to the client's byte buffer; while the
  buffer holds 4 bytes the header is converted with int(), which takes the course's
  zero-padded headers ("0010NAME Alice") as well as space-padded ones ("  10NAME Alice").
  A frame is handled only once all of its payload is in the buffer, so half a frame waits
  without holding anybody up, and several frames in one read are all handled.
- NAME -> "Welcome Alice". A taken name gets "Error: Alice is already in use" ...
  MISTAKE: the duplicate check has no return after the error, so the name is then taken
  anyway and the client ALSO gets "Welcome Alice" (two clients called Alice from then on).
- GET_NAMES -> "Users online: Alice, Bob" (connection order; words after it ignored;
  "Users online: " when nobody is named).
- MSG Bob HELLO -> Bob gets "From Alice: HELLO"; no ack to the sender; no check for a
  message to yourself (it is delivered to you). MSG before NAME is delivered as
  "From None: hi".
- missing recipient -> "Error: Nobody is not connected".
- unknown command -> "Error: unknown command 'DANCE'".
- EXIT -> "Goodbye Alice" ("Goodbye None" without a name), then the client is forgotten and
  its socket closed. A TCP close or reset does the same without the goodbye.
- crashes the rubric never reaches (nobody catches them, the whole server dies):
  a header that is not a number (int() raises ValueError), a payload that is not UTF-8,
  and "MSG Bob" (or a bare "MSG") without any text (the unpacking of split(" ", 1) raises
  ValueError). So a client that speaks another framing kills it too: dec2 "10NAME Bob" is
  read as the header "10NA", and a binary length as the header "\x00\x00\x00\x00".
- prints "Chat server started on port PORT".

Usage: python3 33_padded_dec4.py PORT
"""
import select
import socket
import sys

HEADER = 4

clients = []      # one dict per connection: {"sock", "name", "buf"}


def make_frame(msg):
    # length field, 4 wide
    return (f"{len(msg):4}" + msg).encode()


def send_to(client, msg):
    client["sock"].sendall(make_frame(msg))


def find_client(sock):
    for c in clients:
        if c["sock"] is sock:
            return c
    return None


def find_by_name(name):
    for c in clients:
        if c["name"] == name:
            return c
    return None


def drop(client):
    print("client left:", client["name"])
    clients.remove(client)
    client["sock"].close()


def do_name(client, arg):
    if arg == "":
        send_to(client, "Error: usage NAME <name>")
        return
    if find_by_name(arg) is not None:
        send_to(client, "Error: " + arg + " is already in use")
    client["name"] = arg
    send_to(client, "Welcome " + arg)


def do_get_names(client, arg):
    names = [c["name"] for c in clients if c["name"] is not None]
    send_to(client, "Users online: " + ", ".join(names))


def do_msg(client, arg):
    target, text = arg.split(" ", 1)
    dest = find_by_name(target)
    if dest is None:
        send_to(client, "Error: " + target + " is not connected")
        return
    send_to(dest, "From " + str(client["name"]) + ": " + text)


def handle(client, text):
    print("got:", repr(text))
    if " " in text:
        cmd, arg = text.split(" ", 1)
    else:
        cmd, arg = text, ""
    if cmd == "NAME":
        do_name(client, arg)
    elif cmd == "GET_NAMES":
        do_get_names(client, arg)
    elif cmd == "MSG":
        do_msg(client, arg)
    elif cmd == "EXIT":
        send_to(client, "Goodbye " + str(client["name"]))
        drop(client)
        return False
    else:
        send_to(client, "Error: unknown command '" + cmd + "'")
    return True


def read_from(client):
    try:
        data = client["sock"].recv(1024)
    except ConnectionResetError:
        data = b""
    if not data:
        drop(client)
        return
    client["buf"] += data
    while len(client["buf"]) >= HEADER:
        length = int(client["buf"][:HEADER].decode())
        if len(client["buf"]) < HEADER + length:
            break   # rest of the frame not here yet
        payload = client["buf"][HEADER:HEADER + length]
        client["buf"] = client["buf"][HEADER + length:]
        if not handle(client, payload.decode()):
            break


def main():
    if len(sys.argv) < 2:
        print("usage: python3 33_padded_dec4.py PORT")
        sys.exit(1)
    port = int(sys.argv[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", port))
    server.listen(10)
    print("Chat server started on port", port, flush=True)

    while True:
        socks = [server] + [c["sock"] for c in clients]
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            if s is server:
                conn, addr = server.accept()
                print("new client from", addr)
                clients.append({"sock": conn, "name": None, "buf": b""})
            else:
                client = find_client(s)
                if client is not None:
                    read_from(client)


if __name__ == "__main__":
    main()
