# One "load" over a JVM's attach socket (tests only): prints the JVM's
# answer. Usage: attach_load.py PID LIBRARY OPTIONS
import socket
import sys

pid, lib, opts = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect("/proc/%s/root/tmp/.java_pid%s" % (pid, pid))
s.sendall(b"1\0load\0" + lib.encode() + b"\0true\0" + opts.encode() + b"\0")
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode(errors="replace").replace("\n", " ").strip())
