"""A stand-in for profd on one worker's channel that never answers.

    hello_peer.py SOCKET SECONDS

Listens on the Unix socket SOCKET (mode 0666), accepts one connection,
completes nng's pair handshake, reads the worker's messages for SECONDS
from its first one and prints "hellos N" (Control messages that are a
Hello) and "other N". Prints "listening" once the socket is there; gives
up on a worker that does not connect or speak within 30 s.
"""
import os
import socket
import struct
import sys
import time

from sp_client import PROTO, recv_all

PAIR = b"\0SP\0" + struct.pack(">H", PROTO["pair"]) + b"\0\0"


def main(argv):
    path, secs = argv[1], float(argv[2])
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(1)
    print("listening", flush=True)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(30)
    conn.sendall(PAIR)
    if recv_all(conn, 8) != PAIR:
        print("bad handshake", flush=True)
        return 1
    hellos = other = 0
    end = None
    while end is None or time.time() < end:
        if end is not None:
            conn.settimeout(max(end - time.time(), 0.01))
        try:
            head = recv_all(conn, 9)
            if head is None or head[0] != 1:
                break
            body = recv_all(conn, struct.unpack(">Q", head[1:])[0])
        except socket.timeout:
            break
        if body is None:
            break
        if end is None:
            end = time.time() + secs
        # Control's field 1, length-delimited: a Hello.
        if body[:1] == b"\x0a":
            hellos += 1
        else:
            other += 1
    print("hellos %d" % hellos)
    print("other %d" % other)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
