"""Async chat server (asyncio streams), 3-digit length field.

I used asyncio instead of select(): asyncio.start_server() calls handle_client() once per
connection and every client runs in its own coroutine, so a slow client cannot block the
others.  Each frame is read with readexactly(): first the 3-digit header, then exactly
that many bytes of payload.  Replies are "%03d" % len(text) followed by the text.

Commands:
  NAME <name>        -> "Nickname set to Alice"
                        already used -> "Sorry, Alice is already online"
                        no name -> "Usage: NAME <name>"
  GET_NAMES          -> "Online: Alice (you), Bob"  (the asker is marked, join order)
                        nobody named -> "Online: nobody yet"
  MSG <name> <text>  -> the other side gets "<Alice> HELLO"; the sender gets nothing
                        unknown user -> "Can't deliver, no Nobody here"
                        not named yet -> "Please pick a name with NAME first"
                        no text -> "Usage: MSG <name> <text>"
  EXIT               -> "See you, Alice", then the connection is closed and the name freed
  other              -> "Unrecognised command 'DANCE'"

A header that is not a number (ValueError) or a payload that is not UTF-8
(UnicodeDecodeError) ends that client's coroutine with an uncaught exception: asyncio
prints it and (Python 3.11) closes that connection; the server goes on, but the cleanup
code is skipped, so the client's name stays listed (see the mistake below).

MISTAKE (the student's): the read loop only catches asyncio.IncompleteReadError, which is
what readexactly() raises when the client closes normally.  When a client's connection is
reset instead (killed with unread data waiting, or closed with SO_LINGER 0),
readexactly() raises ConnectionResetError, the coroutine dies before the cleanup code
and the name is never removed: it stays in GET_NAMES for good and stays taken.  A MSG to
that name is written to a dead transport (asyncio drops it silently), so the sender gets
no error.

Usage: python3 45_asyncio_dec3.py PORT
"""
import asyncio
import sys

clients = {}   # name -> StreamWriter


def frame(text):
    return ("%03d" % len(text) + text).encode()


async def send(writer, text):
    writer.write(frame(text))
    await writer.drain()


async def read_frame(reader):
    header = await reader.readexactly(3)
    length = int(header.decode())
    payload = await reader.readexactly(length)
    return payload.decode()


def name_of(writer):
    for n, w in clients.items():
        if w is writer:
            return n
    return None


async def handle_client(reader, writer):
    addr = writer.get_extra_info("peername")
    print("new connection", addr)
    my_name = None
    try:
        while True:
            line = await read_frame(reader)
            parts = line.split(" ", 2)
            cmd = parts[0]

            if cmd == "NAME":
                if len(parts) < 2 or parts[1] == "":
                    await send(writer, "Usage: NAME <name>")
                elif parts[1] in clients:
                    await send(writer, "Sorry, " + parts[1] + " is already online")
                else:
                    if my_name is not None:
                        del clients[my_name]
                    my_name = parts[1]
                    clients[my_name] = writer
                    await send(writer, "Nickname set to " + my_name)

            elif cmd == "GET_NAMES":
                shown = []
                for n in clients:
                    if n == my_name:
                        shown.append(n + " (you)")
                    else:
                        shown.append(n)
                if shown:
                    await send(writer, "Online: " + ", ".join(shown))
                else:
                    await send(writer, "Online: nobody yet")

            elif cmd == "MSG":
                if my_name is None:
                    await send(writer, "Please pick a name with NAME first")
                elif len(parts) < 3 or parts[2] == "":
                    await send(writer, "Usage: MSG <name> <text>")
                elif parts[1] not in clients:
                    await send(writer, "Can't deliver, no " + parts[1] + " here")
                else:
                    # no drain here: don't wait on someone else's socket
                    clients[parts[1]].write(frame("<" + my_name + "> " + parts[2]))

            elif cmd == "EXIT":
                await send(writer, "See you, " + (my_name or "stranger"))
                break

            else:
                await send(writer, "Unrecognised command '" + cmd + "'")
    except asyncio.IncompleteReadError:
        print("client closed", addr)

    # cleanup
    if my_name is not None and clients.get(my_name) is writer:
        del clients[my_name]
        print(my_name, "left")
    writer.close()


async def main():
    port = int(sys.argv[1])
    # reuse_address=False: the lab sheet says not to use SO_REUSEADDR
    server = await asyncio.start_server(handle_client, "127.0.0.1", port,
                                        reuse_address=False)
    print("serving on port", port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
