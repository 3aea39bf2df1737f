"""A minimal nng peer for the socket permission tests (test-only).

sp_client.py PATH req|pair chunk WORKER WINDOW MARKER
sp_client.py PATH req|pair hello
sp_client.py PATH req|pair junk BYTES

Connects to the nng ipc socket PATH as the protocol given (req0 or
pair0), completes the SP handshake and sends one message: a ProfileChunk
of worker WORKER for window WINDOW holding one stack whose leaf is MARKER,
or a Control{hello}, or BYTES bytes that never decode. Prints one line:
  denied        connect() was refused (the socket file's permissions)
  closed        the peer closed the connection without answering
  ack STORED    a ChunkAck came back (STORED is 0 or 1)
  answer N      an answer of N bytes came back
  timeout       nothing came back within 5 s (times PROFD_TIME_FACTOR)
"""
import os
import socket
import struct
import sys

PROTO = {"req": 0x30, "pair": 0x10}
PEER = {"req": 0x31, "pair": 0x10}
REQ_ID = 0x80000001


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, wire, payload):
    tag = varint(num << 3 | wire)
    if wire == 0:
        return tag + varint(payload)
    return tag + varint(len(payload)) + payload


def packed(num, values):
    return field(num, 2, b"".join(varint(v) for v in values))


def chunk(worker, window, marker):
    strings = ["", "sp_client", marker]
    proc = (field(1, 0, 4000001) + field(2, 0, 1) + packed(5, [2]) +
            packed(6, [1]) + packed(7, [7]))
    return (field(1, 2, worker.encode()) + field(2, 0, window) +
            b"".join(field(3, 2, s.encode()) for s in strings) +
            field(4, 2, proc) + field(5, 0, 7))


def hello():
    return field(1, 2, field(1, 2, b"perf") + field(2, 0, 1))


def fields(buf):
    """The varint fields of a message, by number (others skipped)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            out[num], i = read_varint(buf, i)
        elif wire == 2:
            n, i = read_varint(buf, i)
            i += n
        else:
            break
    return out


def read_varint(buf, i):
    n = shift = 0
    while i < len(buf):
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return n, i


def recv_all(s, n):
    buf = b""
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            return None
        buf += got
    return buf


def exchange(s, proto, body):
    s.sendall(b"\0SP\0" + struct.pack(">H", PROTO[proto]) + b"\0\0")
    head = recv_all(s, 8)
    if head is None:
        return "closed"
    if head != b"\0SP\0" + struct.pack(">H", PEER[proto]) + b"\0\0":
        return "bad handshake %r" % head
    if proto == "req":
        body = struct.pack(">I", REQ_ID) + body
    s.sendall(b"\1" + struct.pack(">Q", len(body)) + body)
    head = recv_all(s, 9)
    if head is None:
        return "closed"
    msg = recv_all(s, struct.unpack(">Q", head[1:])[0])
    if msg is None:
        return "closed"
    if proto == "req":
        msg = msg[4:]
        return "ack %d" % fields(msg).get(3, 0)
    return "answer %d" % len(msg)


def main(argv):
    path, proto, kind = argv[1], argv[2], argv[3]
    if kind == "chunk":
        body = chunk(argv[4], int(argv[5]), argv[6])
    elif kind == "junk":
        body = b"\x07" + bytes(int(argv[4]) - 1)  # wire type 7: no such
    else:
        body = hello()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5 * int(os.environ.get("PROFD_TIME_FACTOR", "1")))
    try:
        s.connect(path)
    except PermissionError:
        print("denied")
        return 0
    try:
        print(exchange(s, proto, body))
    except (ConnectionError, BrokenPipeError):
        print("closed")
    except socket.timeout:
        print("timeout")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
