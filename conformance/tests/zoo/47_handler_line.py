"""Multi-user chat server, assignment 2.

I used socketserver.ThreadingTCPServer (every client gets its own thread) with a
StreamRequestHandler, so I can just read lines with self.rfile.readline() and don't have to
do the buffering myself. One command per line ("\\n" at the end, "\\r\\n" works too),
every answer is one line. GET_NAMES sends one line per name and then a line END, so the
client knows when the list is over.

Commands are dispatched like http.server does it: a method cmd_<COMMAND> per command,
called with the words after the command as arguments.

Behaviours (fixture notes):
- line framing: commands end in "\\n" (a "\\r" before it is stripped), replies end in "\\n".
- NAME Alice      -> "You're registered, Alice"
  taken name      -> "Can't use Alice, somebody has it"
  already named   -> "You are already Alice"
- GET_NAMES       -> "Alice\\n", "Bob\\n", "END\\n" (registration order), written with one
                     write each; just "END\\n" when nobody is named
- MSG Bob HELLO   -> Bob gets "Message from Alice: HELLO", Alice gets the ack "ok, sent";
                     a message to yourself is delivered to yourself, then the ack
  missing user    -> "Nobody isn't connected"
  before NAME     -> "Register first with NAME <name>"
- EXIT            -> "Goodbye Alice", then the handler returns (connection closed)
- unknown command -> "Sorry, DANCE is not a command"
- blank lines are ignored; the name is removed in finish(), which socketserver always
  calls, so a close, a reset or an error all forget the client.
- invalid UTF-8: UnicodeDecodeError in that client's thread only; socketserver prints the
  traceback and closes that connection; the server keeps going.
- STUDENT MISTAKE: the cmd_ methods are called as method(*words), so a known command with
  the wrong number of words raises TypeError ("GET_NAMES extra words", "NAME Alice Smith",
  "NAME", "EXIT now", "MSG Bob"): no reply at all, socketserver prints the traceback and
  closes that client's connection (and finish() forgets its name). The server itself and
  the other clients are fine.

Usage: python3 47_handler_line.py PORT
"""
import socketserver
import sys
import threading

clients = {}        # name -> handler
lock = threading.Lock()


class ChatHandler(socketserver.StreamRequestHandler):

    def setup(self):
        super().setup()
        self.name = None
        self.write_lock = threading.Lock()
        print("connected:", self.client_address)

    def send_line(self, text):
        with self.write_lock:
            self.wfile.write((text + "\n").encode("utf-8"))
            self.wfile.flush()

    def handle(self):
        while True:
            raw = self.rfile.readline()
            if not raw:
                break           # client closed
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.strip() == "":
                continue
            print(self.name, "->", repr(line))
            words = line.split()
            command = words[0]
            method = getattr(self, "cmd_" + command, None)
            if method is None:
                self.send_line("Sorry, " + command + " is not a command")
                continue
            if command == "MSG":
                # keep the spaces of the message
                method(*line.split(" ", 2)[1:])
            else:
                method(*words[1:])
            if command == "EXIT":
                break

    def finish(self):
        with lock:
            if self.name is not None and clients.get(self.name) is self:
                del clients[self.name]
        print("gone:", self.name)
        super().finish()

    # ---- commands ----

    def cmd_NAME(self, name):
        with lock:
            if self.name is not None:
                reply = "You are already " + self.name
            elif name in clients:
                reply = "Can't use " + name + ", somebody has it"
            else:
                clients[name] = self
                self.name = name
                reply = "You're registered, " + name
        self.send_line(reply)

    def cmd_GET_NAMES(self):
        with lock:
            names = list(clients.keys())
        for n in names:
            self.send_line(n)
        self.send_line("END")

    def cmd_MSG(self, target, text):
        if self.name is None:
            self.send_line("Register first with NAME <name>")
            return
        with lock:
            other = clients.get(target)
        if other is None:
            self.send_line(target + " isn't connected")
            return
        try:
            other.send_line("Message from " + self.name + ": " + text)
        except OSError as e:
            print("could not deliver:", e)
        self.send_line("ok, sent")

    def cmd_EXIT(self):
        if self.name is not None:
            self.send_line("Goodbye " + self.name)
        else:
            self.send_line("Goodbye")


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), ChatHandler)
    server.daemon_threads = True
    print("chat server running on port", port, flush=True)
    server.serve_forever()
