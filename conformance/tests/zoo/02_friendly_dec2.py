"""Friendly-wording chat server with acknowledgements, written from a select() tutorial.

Behaviours shown:
- dec2 framing both ways; the header is read with recv(2) and the payload with a single
  recv(n) that accepts a short read (half a frame is handled as a short command).
- NAME -> "Hello Alice"; a taken name -> "Name already in use, pick another".
- GET_NAMES -> "Connected clients: Alice, Bob" (registration order).
- MSG -> the recipient gets "Alice: HELLO", and the sender then gets the acknowledgement
  "Message sent." before the server reads its next command. A message to yourself is
  delivered and acknowledged. MSG before NAME is delivered as "None: text".
- unknown command -> "Unknown command: DANCE"; missing recipient -> "User Nobody does not exist".
- EXIT -> "Goodbye!" but the socket stays open and the name stays listed until the client
  closes its TCP connection.
- crashes the whole server: a length field that is not digits (int() raises ValueError) and a
  payload that is not valid UTF-8 (payload.decode() raises UnicodeDecodeError).

Usage: python3 02_friendly_dec2.py PORT
"""
import socket
import select
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1])


def send_msg(sock, msg):
    sock.send((str(len(msg)).zfill(2) + msg).encode())


def recv_msg(sock):
    length = sock.recv(2)
    if not length:
        return None
    length = int(length.decode())
    return sock.recv(length).decode()


server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server_socket.bind((HOST, PORT))
server_socket.listen()
print(f"listening on {PORT}", flush=True)

sockets_list = [server_socket]
clients = {}

while True:
    read_sockets, _, _ = select.select(sockets_list, [], [])
    for notified_socket in read_sockets:
        if notified_socket == server_socket:
            client_socket, client_address = server_socket.accept()
            sockets_list.append(client_socket)
            print("new connection from", client_address, flush=True)
            continue
        try:
            message = recv_msg(notified_socket)
        except ConnectionResetError:
            message = None
        if message is None:
            sockets_list.remove(notified_socket)
            clients.pop(notified_socket, None)
            notified_socket.close()
            continue
        parts = message.split(" ", 2)
        command = parts[0]
        if command == "NAME" and len(parts) >= 2:
            name = parts[1]
            if name in clients.values():
                send_msg(notified_socket, "Name already in use, pick another")
            else:
                clients[notified_socket] = name
                send_msg(notified_socket, f"Hello {name}")
        elif command == "GET_NAMES":
            send_msg(notified_socket, "Connected clients: " + ", ".join(clients.values()))
        elif command == "MSG":
            if len(parts) < 3:
                send_msg(notified_socket, "Usage: MSG <name> <message>")
                continue
            target = None
            for sock, name in clients.items():
                if name == parts[1]:
                    target = sock
            if target is None:
                send_msg(notified_socket, f"User {parts[1]} does not exist")
            else:
                send_msg(target, f"{clients.get(notified_socket)}: {parts[2]}")
                send_msg(notified_socket, "Message sent.")
        elif command == "EXIT":
            send_msg(notified_socket, "Goodbye!")
        else:
            send_msg(notified_socket, f"Unknown command: {command}")
