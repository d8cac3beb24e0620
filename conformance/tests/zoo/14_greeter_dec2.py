"""Chat server that greets on connect (and survives clients that leave), delivers only the
first word of a message and echoes EXIT back.

Behaviours shown:
- dec2 framing both ways; recv(2) header, one recv(n) payload.
- a greeting frame on connect: "27Welcome to the chat server!". A client that connects and
  leaves without a word is simply removed (resets are caught too).
- NAME -> "Hello Alice"; a taken name -> "Error: Name taken".
- GET_NAMES -> "Alice Bob " (a space after every name).
- MSG splits the whole line on spaces and sends word 3 only: "MSG Bob carry on" delivers
  "Alice sent carry". A message to yourself is delivered.
- unknown command -> "Error: Unknown command"; missing recipient -> "Error: User not found";
  a MSG without text -> "Error: Usage MSG <name> <message>".
- EXIT is echoed back as "EXIT" (the course client closes when it reads it); the server
  keeps the socket and the name until the client closes its TCP connection.
- a length field that is not digits is ignored (two bytes skipped); a payload that is not
  UTF-8 drops that client.

Usage: python3 14_greeter_dec2.py PORT
"""
import select
import socket
import sys

GREETING = "Welcome to the chat server!"


def out(sock, text):
    sock.send("{:02d}{}".format(len(text), text).encode())


def main(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    print("listening on", port, flush=True)
    sockets = [srv]
    who = {}
    while True:
        ready, _, _ = select.select(sockets, [], [])
        for sock in ready:
            if sock == srv:
                client, _ = srv.accept()
                sockets.append(client)
                out(client, GREETING)
                continue
            try:
                head = sock.recv(2)
                line = sock.recv(int(head)).decode() if head.isdigit() else ""
            except (ConnectionResetError, UnicodeDecodeError):
                head = b""
            if not head:
                sockets.remove(sock)
                who.pop(sock, None)
                sock.close()
                continue
            if not line.strip():
                continue
            words = line.split()
            if words[0] == "NAME" and len(words) == 2:
                if words[1] in who.values():
                    out(sock, "Error: Name taken")
                else:
                    who[sock] = words[1]
                    out(sock, "Hello " + words[1])
            elif words[0] == "GET_NAMES":
                out(sock, "".join(n + " " for n in who.values()))
            elif words[0] == "MSG":
                if len(words) < 3:
                    out(sock, "Error: Usage MSG <name> <message>")
                    continue
                target = [s for s in who if who[s] == words[1]]
                if target:
                    out(target[0], who.get(sock, "?") + " sent " + words[2])
                else:
                    out(sock, "Error: User not found")
            elif words[0] == "EXIT":
                out(sock, "EXIT")
            else:
                out(sock, "Error: Unknown command")


if __name__ == "__main__":
    main(int(sys.argv[1]))
