"""Attacks an nng ipc listener through its handshake (test-only).

handshake_attack.py PATH PROTO N

First connects and closes at once, five times: nng before 1.6.0 meets
EPIPE sending its header to such a peer and stops accepting for good,
keeping every later connection (nng issue 1518). Then opens N connections
that each send the 8-byte SP header of protocol PROTO (16 pair0, 48 req0)
and waits up to 10 s in all (times PROFD_TIME_FACTOR) for the listener's header
on each: a connection closed before the listener answered would be
dropped by it without being handed over, which tells nothing. Prints one
line, "negotiated K of N", and exits, closing every connection.
"""
import os
import select
import socket
import struct
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def main():
    path, proto, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for _ in range(5):
        connect(path).close()
        time.sleep(0.05)
    header = b"\x00SP\x00" + struct.pack(">H", proto) + b"\x00\x00"
    socks = []
    for _ in range(n):
        s = connect(path)
        s.sendall(header)
        socks.append(s)
    wait = 10 * int(os.environ.get("PROFD_TIME_FACTOR", "1"))
    got, pending, end = 0, list(socks), time.time() + wait
    while pending and time.time() < end:
        ready, _, _ = select.select(pending, [], [], max(0, end - time.time()))
        for s in ready:
            pending.remove(s)
            try:
                got += len(s.recv(8)) == 8
            except OSError:
                pass
    print("negotiated %d of %d" % (got, n))
    for s in socks:
        s.close()


main()
