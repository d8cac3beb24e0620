"""Chat server with 3-digit lengths that takes exactly one frame out of each recv(1024).

Behaviours shown:
- dec3 framing both ways ("011Hello Alice").
- reads with recv(1024) and takes the first three bytes as the length and the next `length`
  bytes as the payload; whatever else came in the same recv() is thrown away. So two frames
  sent in one write get one reply, and a header that arrives alone is read as an empty
  command ("Sorry, I don't understand that command") after which the payload is taken as a
  header ("NAM" is not a number: that client is dropped).
- NAME -> "Hello Alice"; a taken name -> "Sorry, that name is taken".
- GET_NAMES -> "Alice, Bob" (no prefix).
- MSG -> "Alice sent HELLO", and the sender gets an acknowledgement "Delivered to Bob";
  a message to yourself is delivered and acknowledged.
- unknown command -> "Sorry, I don't understand that command";
  missing recipient -> "Sorry, Nobody is not here".
- EXIT -> "Bye Alice", the name is forgotten and the connection closed.
- a length field that is not digits, or a payload that is not UTF-8, drops that client.

Usage: python3 08_onerecv_dec3.py PORT
"""
import select
import socket
import sys


def wrap(msg):
    return ("%03d" % len(msg) + msg).encode()


def unwrap(data):
    size = int(data[:3])
    return data[3:3 + size].decode()


def main(port):
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    print("listening on port %d" % port, flush=True)
    conns = [srv]
    nick = {}

    def bye(c):
        conns.remove(c)
        nick.pop(c, None)
        c.close()

    while True:
        rl, _, _ = select.select(conns, [], [])
        for c in rl:
            if c is srv:
                conns.append(srv.accept()[0])
                continue
            try:
                data = c.recv(1024)
                text = unwrap(data) if data else None
            except (ValueError, ConnectionResetError):
                text = None
            if text is None:
                bye(c)
                continue
            args = text.split(" ", 2)
            if args[0] == "NAME" and len(args) == 2:
                if args[1] in nick.values():
                    c.send(wrap("Sorry, that name is taken"))
                else:
                    nick[c] = args[1]
                    c.send(wrap("Hello " + args[1]))
            elif args[0] == "GET_NAMES":
                c.send(wrap(", ".join(nick.values())))
            elif args[0] == "MSG" and len(args) == 3:
                found = False
                for other in nick:
                    if nick[other] == args[1]:
                        other.send(wrap("%s sent %s" % (nick.get(c), args[2])))
                        c.send(wrap("Delivered to " + args[1]))
                        found = True
                if not found:
                    c.send(wrap("Sorry, %s is not here" % args[1]))
            elif args[0] == "EXIT":
                c.send(wrap("Bye " + str(nick.get(c))))
                bye(c)
            else:
                c.send(wrap("Sorry, I don't understand that command"))


main(int(sys.argv[1]))
