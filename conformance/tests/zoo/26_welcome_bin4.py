"""Chat server with a 4-byte binary length that answers NAME with two frames and
acknowledges every delivered message.

Behaviours shown:
- bin4 framing both ways: struct.pack('>I', len(payload_bytes)) then the UTF-8 payload;
  recv(4) for the header (fewer than 4 bytes is taken as a disconnect), then a single
  recv(n) for the payload (a short read is used as it is). One select() loop.
- NAME -> two frames: "Welcome Alice", then the current list "Online: Alice" (after Bob
  names: "Welcome Bob", "Online: Alice Bob"). A taken name -> only "Duplicate name".
- GET_NAMES -> "Online: Alice Bob" (registration order; "Online: " when nobody is named).
- MSG -> the recipient gets "Message from Alice: HELLO", then the sender gets the
  acknowledgement "Message delivered to Bob".
- a message to yourself is refused: "Cannot message yourself"; missing recipient ->
  "Unknown user Nobody"; MSG before NAME -> "Please register first"; MSG without text ->
  "Usage: MSG <user> <text>"; unknown command -> "Command not supported".
- EXIT -> "Goodbye Alice", then the name is forgotten and the socket removed and closed.
- a payload that is not UTF-8 drops only that client; so does a header that arrives short
  (e.g. "\\x00\\x00" then nothing: recv(4) returns 2 bytes, the client is dropped and its
  name forgotten). A client that connects and leaves without a word is removed fine.
- the declared size is never checked: whatever 4 bytes come first are the size and the
  single recv(size) returns what has arrived. So other framings are half understood: a dec4
  "0010NAME Alice" gets "Welcome Alice" + "Online: Alice" (bin4 frames); dec2
  "10NAME Alice", dec3 "010NAME Alice" and raw "NAME Alice" get "Command not supported";
  bin8 "\\x00*7\\x0aNAME Alice" gets "Command not supported" (the empty first half) then
  "Welcome Alice" + "Online: Alice".
- replies are sent straight away with sendall() and nothing catches a send error, so a
  client that goes away right after a command kills the server: a plain close right after
  NAME (two frames: the first reaches the departed peer, which resets, and the second
  raises BrokenPipeError; 30/30 tries when the client sends and closes at once), or a reset
  (SO_LINGER 0) right after any command that gets a reply, EXIT and a MSG (the ack)
  included (ConnectionResetError). A plain close after a one-frame reply (GET_NAMES,
  EXIT, MSG + ack, errors) is harmless, and so is a client that closes while idle.
- mistake the rubric never exercises: names live in two dicts (name -> socket and
  socket -> name). A second NAME from an already named client overwrites socket -> name
  but never deletes the old name from name -> socket, so the old name stays listed and
  taken for good, even after that client leaves. A MSG to such a ghost name while its
  client is still connected is delivered to it; once that client has closed, the MSG sends
  on the closed socket (OSError: [Errno 9] Bad file descriptor) and the whole server dies.

Usage: python3 26_welcome_bin4.py PORT
"""
import select
import socket
import struct
import sys

HEADER_SIZE = 4

sock_of = {}   # name -> socket
name_of = {}   # socket -> name


def send_frame(sock, text):
    payload = text.encode("utf-8")
    sock.sendall(struct.pack(">I", len(payload)) + payload)


def recv_frame(sock):
    header = sock.recv(HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        return None
    (size,) = struct.unpack(">I", header)
    return sock.recv(size).decode("utf-8")


def online_list():
    return "Online: " + " ".join(sock_of.keys())


def drop(sock, inputs):
    name = name_of.pop(sock, None)
    if name is not None:
        del sock_of[name]
    inputs.remove(sock)
    sock.close()


def main():
    port = int(sys.argv[1])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    listener.listen(10)
    print("[*] chat server listening on port %d" % port, flush=True)
    inputs = [listener]

    while True:
        readable, _, _ = select.select(inputs, [], [])
        for s in readable:
            if s is listener:
                conn, addr = listener.accept()
                inputs.append(conn)
                print("[+] connection from %s:%d" % addr, flush=True)
                continue

            try:
                msg = recv_frame(s)
            except (ConnectionResetError, UnicodeDecodeError):
                msg = None
            if msg is None:
                print("[-] %s disconnected" % name_of.get(s), flush=True)
                drop(s, inputs)
                continue

            words = msg.split(" ", 2)
            command = words[0]

            if command == "NAME" and len(words) >= 2:
                new_name = words[1]
                if new_name in sock_of:
                    send_frame(s, "Duplicate name")
                else:
                    sock_of[new_name] = s
                    name_of[s] = new_name
                    send_frame(s, "Welcome " + new_name)
                    send_frame(s, online_list())

            elif command == "GET_NAMES":
                send_frame(s, online_list())

            elif command == "MSG":
                if s not in name_of:
                    send_frame(s, "Please register first")
                elif len(words) < 3:
                    send_frame(s, "Usage: MSG <user> <text>")
                elif words[1] == name_of[s]:
                    send_frame(s, "Cannot message yourself")
                elif words[1] not in sock_of:
                    send_frame(s, "Unknown user " + words[1])
                else:
                    send_frame(sock_of[words[1]], "Message from " + name_of[s] + ": " + words[2])
                    send_frame(s, "Message delivered to " + words[1])

            elif command == "EXIT":
                send_frame(s, "Goodbye " + name_of.get(s, "stranger"))
                drop(s, inputs)

            else:
                send_frame(s, "Command not supported")


if __name__ == "__main__":
    main()
