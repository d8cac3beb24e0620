"""Chat server that greets on connect and dies when a client leaves without a word.

Behaviours shown:
- dec2 framing both ways; recv(2) for the header, one recv(n) for the payload.
- a greeting frame on connect, before any command: "27Welcome to the chat server!".
- per-client state is only created when the client first says something. A client that
  connects and leaves without a word kills the whole server, every time:
    * if it never read the greeting, its close is a reset and recv() raises
      ConnectionResetError (nobody catches it);
    * otherwise recv() returns b"" and the cleanup looks up state[sock] -> KeyError.
  A client that said anything (even a refused NAME) and then closes normally is handled
  fine; any client whose close is a reset (it left replies unread) also kills the server.
- NAME -> "Welcome, Alice!"; a taken name -> "That name is already taken".
- GET_NAMES -> "The clients are: Alice, Bob" (registration order).
- MSG -> "Alice sent HELLO"; a message to yourself is refused:
  "You can't send a message to yourself".
- unknown command -> "Invalid command"; missing recipient -> "Nobody is not online".
- EXIT is silent: the name is forgotten and the server closes the connection.
- a length field that is not digits is ignored (those two bytes are skipped); a payload that
  is not UTF-8 crashes the whole server (decode()).

Usage: python3 03_greeter_crash_dec2.py PORT
"""
import select
import socket
import sys

WELCOME = "Welcome to the chat server!"


def pack(msg):
    return f"{len(msg):02d}{msg}".encode()


def command(sock, body, state):
    parts = body.split(" ", 2)
    me = state[sock]
    taken = [s["name"] for s in state.values()]
    if parts[0] == "NAME" and len(parts) == 2:
        if parts[1] in taken:
            return "That name is already taken"
        me["name"] = parts[1]
        return f"Welcome, {parts[1]}!"
    if parts[0] == "GET_NAMES":
        return "The clients are: " + ", ".join(n for n in taken if n)
    if parts[0] == "MSG" and len(parts) == 3:
        if parts[1] == me["name"]:
            return "You can't send a message to yourself"
        for other, st in state.items():
            if st["name"] == parts[1]:
                other.send(pack(f"{me['name']} sent {parts[2]}"))
                return None
        return f"{parts[1]} is not online"
    return "Invalid command"


def main():
    port = int(sys.argv[1])
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(10)
    print("listening on", port, flush=True)
    inputs = [listener]
    state = {}  # sock -> {"name": ...}, created when the client first says something

    while True:
        ready, _, _ = select.select(inputs, [], [])
        for sock in ready:
            if sock is listener:
                conn, _ = listener.accept()
                inputs.append(conn)
                conn.send(pack(WELCOME))
                continue
            header = sock.recv(2)
            if not header:
                print(state[sock]["name"], "left", flush=True)
                del state[sock]
                inputs.remove(sock)
                sock.close()
                continue
            if not header.isdigit():
                continue
            body = sock.recv(int(header)).decode()
            if sock not in state:
                state[sock] = {"name": None}
            if body == "EXIT":
                del state[sock]
                inputs.remove(sock)
                sock.close()
                continue
            answer = command(sock, body, state)
            if answer:
                sock.send(pack(answer))


main()
