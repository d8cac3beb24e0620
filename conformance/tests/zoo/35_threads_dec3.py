"""Chat server, one thread per client.
Every message is a 3 digit length (zero padded) and then the text, both ways.
Replies end with a newline (counted in the length) so my client can just print them.

Behaviours shown (fixture notes):
- dec3 both ways; every reply text gets "\n" appended before framing, and the length
  counts it: "012HELLO Alice\n".
- threading.Thread per connection; names dict under a Lock. Header and payload are both
  read with a recv loop (read_exact), so a half frame blocks only that client's thread.
- NAME -> "HELLO Alice\n"; taken -> "Name Alice is already in use\n".
- GET_NAMES -> one name per line, "Alice\nBob\n" (extra words ignored).
- MSG -> recipient gets "[Alice] HELLO\n"; no ack; missing -> "No user named Nobody\n";
  MSG before NAME -> "You need a NAME first\n".
- BUG: a message to yourself is silently dropped (no delivery, no reply).
- unknown -> "Unknown command: DANCE\n"; EXIT -> "Goodbye\n", forgets the name, closes.
- a non-digit length or invalid UTF-8 drops only that client (its name is forgotten).

Usage: python3 35_threads_dec3.py PORT
"""
import socket
import sys
import threading

HEADER = 3

users = {}              # name -> connection
users_lock = threading.Lock()


def read_exact(conn, n):
    """Read exactly n bytes, or return None if the client went away."""
    buf = b""
    while len(buf) < n:
        part = conn.recv(n - len(buf))
        if part == b"":
            return None
        buf += part
    return buf


def read_frame(conn):
    header = read_exact(conn, HEADER)
    if header is None:
        return None
    size = int(header.decode())
    body = read_exact(conn, size)
    if body is None:
        return None
    return body.decode()


def send_frame(conn, text):
    text = text + "\n"
    packet = f"{len(text):03d}{text}"
    conn.sendall(packet.encode())


def handle(conn, addr):
    me = None
    try:
        while True:
            line = read_frame(conn)
            if line is None:
                break
            words = line.split(" ")
            cmd = words[0]

            if cmd == "NAME":
                if len(words) < 2 or not words[1]:
                    send_frame(conn, "Usage: NAME <name>")
                    continue
                new = words[1]
                with users_lock:
                    if new in users:
                        send_frame(conn, "Name " + new + " is already in use")
                        continue
                    if me is not None:
                        del users[me]
                    users[new] = conn
                    me = new
                send_frame(conn, "HELLO " + me)

            elif cmd == "GET_NAMES":
                with users_lock:
                    listing = "\n".join(users)
                send_frame(conn, listing)

            elif cmd == "MSG":
                if me is None:
                    send_frame(conn, "You need a NAME first")
                    continue
                if len(words) < 3:
                    send_frame(conn, "Usage: MSG <name> <text>")
                    continue
                to = words[1]
                text = " ".join(words[2:])
                with users_lock:
                    target = users.get(to)
                if target is None:
                    send_frame(conn, "No user named " + to)
                elif target is conn:
                    # don't echo my own messages back to me
                    pass
                else:
                    try:
                        send_frame(target, "[" + me + "] " + text)
                    except OSError:
                        print("could not deliver to", to)

            elif cmd == "EXIT":
                send_frame(conn, "Goodbye")
                break

            else:
                send_frame(conn, "Unknown command: " + cmd)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        print(addr, "error:", e)
    finally:
        with users_lock:
            if me is not None and users.get(me) is conn:
                del users[me]
        conn.close()
        print(addr, "left")


def main():
    port = int(sys.argv[1])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", port))
    srv.listen()
    print("listening on", port, flush=True)
    while True:
        conn, addr = srv.accept()
        print("connection from", addr)
        threading.Thread(target=handle, args=(conn, addr), daemon=True).start()


if __name__ == "__main__":
    main()
