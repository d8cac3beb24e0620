"""Chat server that uses numeric command codes and prefixes its replies with "Server Sent: ".

Behaviours shown:
- numeric verbs: "1 <name>" (NAME), "2" (GET_NAMES), "3 <name> <text>" (MSG), "4" (EXIT).
- dec2 framing both ways; recv(2) header, one recv(n) payload.
- every reply goes through one helper that puts "Server Sent: " in front:
  "1 Alice" -> "Server Sent: Hello Alice"; a taken name -> "Server Sent: Name taken, choose another".
- "2" -> "Server Sent: Alice\\nBob" (names separated by newlines, registration order).
- "3 Bob HELLO" -> Bob gets "Alice send HELLO" (deliveries are sent without the prefix);
  a message to yourself is delivered.
- unknown command (e.g. "DANCE") -> "Server Sent: Invalid option";
  missing recipient -> "Server Sent: No client named Nobody".
- "4" -> "Server Sent: Bye" and the name is forgotten (the socket stays open).
- "3 ..." before "1 ..." crashes the whole server (names[sock] raises KeyError).
- a length field that is not digits drops that client; a payload that is not UTF-8 crashes
  the whole server.

Usage: python3 05_numeric_dec2.py PORT
"""
import select
import socket
import sys


def reply(sock, text):
    text = "Server Sent: " + text
    sock.send((str(len(text)).rjust(2, "0") + text).encode())


def deliver(sock, text):
    sock.send((str(len(text)).rjust(2, "0") + text).encode())


srv = socket.socket()
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(5)
socks = [srv]
names = {}

while True:
    rd, wr, er = select.select(socks, [], [])
    for sock in rd:
        if sock == srv:
            c, a = srv.accept()
            socks.append(c)
            continue
        try:
            h = sock.recv(2)
        except ConnectionResetError:
            h = b""
        if not h or not h.isdigit():
            socks.remove(sock)
            names.pop(sock, None)
            sock.close()
            continue
        req = sock.recv(int(h)).decode()
        p = req.split(" ", 2)
        if p[0] == "1" and len(p) == 2:
            if p[1] in names.values():
                reply(sock, "Name taken, choose another")
            else:
                names[sock] = p[1]
                reply(sock, "Hello " + p[1])
        elif p[0] == "2":
            reply(sock, "\n".join(names.values()))
        elif p[0] == "3" and len(p) == 3:
            sender = names[sock]
            to = [s for s in names if names[s] == p[1]]
            if to:
                deliver(to[0], sender + " send " + p[2])
            else:
                reply(sock, "No client named " + p[1])
        elif p[0] == "4":
            reply(sock, "Bye")
            names.pop(sock, None)
        else:
            reply(sock, "Invalid option")
