#!/usr/bin/env python3
"""A confab server of the course's kind: one thread, one select() loop.

This is the comparison point of BENCHMARKS.md, written the way the chat assignment asks:
straightforward, correct (canonical protocol of PROTOCOL.md, dec4 framing), and not tuned.

    python3 bench/python_server.py [--host 127.0.0.1] [--port 4775] [--batch-writes]

Prints "listening on HOST:PORT" once it listens (with --port 0 the port is the system's
choice). Stops on Ctrl-C or SIGTERM.

select() cannot watch a descriptor numbered FD_SETSIZE (1024) or above, so a connection that
gets such a descriptor is refused with ERROR SERVER_FULL (POLICY-1): this server tops out near
1,020 clients, as select() servers do.
"""

import argparse
import re
import select
import signal
import socket
import sys
import time

MAX_PAYLOAD = 9999  # FRAME-3
MAX_TEXT = 9961  # MSG-7
FD_SETSIZE = 1024  # select()'s limit on descriptor numbers
QUEUE_LIMIT = 4 * 1024 * 1024  # POLICY-3: bytes queued to a client that does not read
LINGER = 1.0  # seconds a closing connection is read from before it is dropped
NAME_RE = re.compile(rb"[A-Za-z][A-Za-z0-9]{0,31}")
RESERVED = {b"HELLO", b"SENT", b"ERROR", b"BYE"}  # REPLY-1


def frame(payload):
    """FRAME-1: four zero-padded decimal digits, then the payload."""
    return b"%04d" % len(payload) + payload


def valid_name(word):
    """NAME-3."""
    return NAME_RE.fullmatch(word) is not None and word not in RESERVED


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.inbuf = b""
        self.outbuf = bytearray()
        self.name = None
        self.closing = False  # close once outbuf is written (EXIT, BAD_FRAME)
        self.closed_at = None  # when our side was shut down (see finish)


class Server:
    def __init__(self, listener, batch_writes):
        self.listener = listener
        self.batch_writes = batch_writes
        self.clients = {}  # socket -> Client
        self.names = {}  # name -> Client, in registration order (NAMES-1)
        self.lingering = set()  # clients whose side is shut down (see finish)

    # ---- output ------------------------------------------------------------------------

    def send(self, client, payload):
        """Sends a reply at once, as the course's servers do; what the socket does not take
        now is queued and written when select() says the socket is writable (CONN-2: a slow
        reader never blocks the loop). With --batch-writes everything is queued and written
        once per loop instead, one send() per socket and round."""
        if client.closing:
            return
        data = frame(payload)
        if not client.outbuf and not self.batch_writes:
            try:
                sent = client.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.drop(client)
                return
            data = data[sent:]
        client.outbuf += data
        if len(client.outbuf) > QUEUE_LIMIT:  # POLICY-3
            self.drop(client)

    def error(self, client, code, message):
        self.send(client, b"ERROR " + code + b" " + message)

    # ---- connections -------------------------------------------------------------------

    def accept(self):
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        if sock.fileno() >= FD_SETSIZE:  # POLICY-1: select() cannot watch it
            try:
                sock.send(frame(b"ERROR SERVER_FULL select() cannot watch more connections"))
            except OSError:
                pass
            sock.close()
            return
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.clients[sock] = Client(sock)

    def release(self, client):
        """NAME-7: the name is free again."""
        if client.name is not None:
            del self.names[client.name]
            client.name = None

    def drop(self, client):
        """CONN-3: release the name, then close."""
        self.release(client)
        self.lingering.discard(client)
        self.clients.pop(client.sock, None)
        try:
            client.sock.close()
        except OSError:
            pass

    def read(self, client):
        try:
            data = client.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # closed or reset; a partial frame is dropped (FRAME-6)
            self.drop(client)
            return
        if client.closing:  # EXIT-3: anything after EXIT is ignored
            return
        client.inbuf += data
        while not client.closing and client.inbuf:
            header = client.inbuf[:4]
            if not header.isdigit():  # FRAME-5, even before the header is complete
                self.error(client, b"BAD_FRAME", b"the length header is not four digits")
                client.closing = True
                client.inbuf = b""
                break
            if len(header) < 4:
                break
            length = int(header)
            if len(client.inbuf) < 4 + length:
                break
            payload = client.inbuf[4 : 4 + length]
            client.inbuf = client.inbuf[4 + length :]
            self.command(client, payload)
            if client.sock not in self.clients:
                return
        if client.closing and not client.outbuf:
            self.finish(client)

    def finish(self, client):
        """After BYE or BAD_FRAME has been written: shut our side, so the client reads the
        reply and then end-of-stream, and read and discard whatever it still sends for a
        moment, so that unread input does not turn the close into a reset that could destroy
        the reply (EXIT-2, FRAME-5)."""
        if client.closed_at is not None:
            return
        self.release(client)  # CONN-3, CONN-5: the name is free before the close
        client.closed_at = time.monotonic()
        self.lingering.add(client)
        try:
            client.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.drop(client)

    def write(self, client):
        try:
            sent = client.sock.send(client.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.drop(client)
            return
        del client.outbuf[:sent]
        if client.closing and not client.outbuf:
            self.finish(client)

    # ---- commands (PROTOCOL.md §4 and §5) ----------------------------------------------

    def command(self, client, payload):
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:  # ENC-2, first of all (CMD-6)
            self.error(client, b"BAD_ENCODING", b"the payload is not UTF-8")
            return
        verb, _, _ = payload.partition(b" ")
        has_args = b" " in payload
        if verb == b"NAME":
            self.name_cmd(client, payload[5:] if has_args else None)
        elif verb in (b"GET_NAMES", b"GETNAMES"):  # CMD-2
            if has_args:
                self.error(client, b"BAD_ARGS", b"GET_NAMES takes no arguments")
            else:
                self.names_cmd(client)
        elif verb == b"MSG":
            self.msg_cmd(client, payload[4:] if has_args else None)
        elif verb == b"EXIT":
            if has_args:
                self.error(client, b"BAD_ARGS", b"EXIT takes no arguments")
            else:
                self.release(client)  # EXIT-1: released before BYE is sent
                self.send(client, b"BYE")
                client.closing = True
        else:  # CMD-3
            self.error(client, b"UNKNOWN_COMMAND", b"usage: NAME, GET_NAMES, MSG or EXIT")

    def name_cmd(self, client, args):
        if args is None or args == b"" or b" " in args:  # CMD-4
            self.error(client, b"BAD_ARGS", b"usage: NAME <name>")
        elif not valid_name(args):  # NAME-4
            self.error(client, b"INVALID_NAME", b"a name is 1 to 32 letters and digits")
        elif client.name is not None:  # NAME-5
            self.error(client, b"ALREADY_NAMED", b"this connection has a name")
        elif args in self.names:  # NAME-2
            self.error(client, b"NAME_TAKEN", b"another connection holds this name")
        else:  # NAME-1
            client.name = args
            self.names[args] = client
            self.send(client, b"HELLO " + args)

    def names_cmd(self, client):
        names = list(self.names)  # NAMES-1: registration order
        listed = b" ".join(names)
        if len(listed) > MAX_PAYLOAD:  # NAMES-5: the longest prefix that fits, then +N
            kept = len(names)
            while kept > 0:
                kept -= 1
                more = b"+%d" % (len(names) - kept)
                listed = b" ".join(names[:kept] + [more])
                if len(listed) <= MAX_PAYLOAD:
                    break
        self.send(client, listed)

    def msg_cmd(self, client, args):
        to, space, text = args.partition(b" ") if args is not None else (b"", b"", b"")
        if args is None or to == b"" or not space or text == b"":  # CMD-4, MSG-7
            self.error(client, b"BAD_ARGS", b"usage: MSG <name> <text>")
        elif not valid_name(to):  # CMD-4: the recipient must be a name
            self.error(client, b"BAD_ARGS", b"the recipient is not a valid name")
        elif len(text) > MAX_TEXT:  # MSG-7
            self.error(client, b"TEXT_TOO_LONG", b"a text is at most 9961 bytes")
        elif client.name is None:  # MSG-5
            self.error(client, b"NAME_REQUIRED", b"send NAME first")
        elif to not in self.names:  # MSG-4
            self.error(client, b"NO_SUCH_USER", b"nobody has this name")
        else:  # MSG-1, MSG-3: no reply to the sender
            self.send(self.names[to], client.name + b" SENT " + text)

    # ---- the loop ----------------------------------------------------------------------

    def serve(self):
        while True:
            readers = [self.listener] + list(self.clients)
            writers = [s for s, c in self.clients.items() if c.outbuf]
            timeout = LINGER if self.lingering else None
            readable, writable, _ = select.select(readers, writers, [], timeout)
            if self.lingering:
                now = time.monotonic()
                for client in list(self.lingering):
                    if now - client.closed_at >= LINGER:
                        self.drop(client)
            for sock in readable:
                if sock is self.listener:
                    self.accept()
                elif sock in self.clients:
                    self.read(self.clients[sock])
            for sock in writable:
                if sock in self.clients:
                    self.write(self.clients[sock])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=4775, help="port (0: any free port)")
    parser.add_argument(
        "--batch-writes",
        action="store_true",
        help="queue replies and write each socket once per select() round (a tuning the "
        "course's servers do not have; for comparison only)",
    )
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
    except OSError as e:
        print(f"python_server: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    listener.listen(1024)
    listener.setblocking(False)
    host, port = listener.getsockname()
    print(f"listening on {host}:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        Server(listener, args.batch_writes).serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
