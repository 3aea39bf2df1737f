"""Reads another process's memory as an attacker would (test-only).

peek.py PID ADDRESS

Calls process_vm_readv for 64 bytes at ADDRESS (hex) of PID, then opens
/proc/PID/mem and reads there too. Prints one line for each way:
"vm_readv read N" or "vm_readv error NAME", "mem read N" or
"mem error NAME". Exits 0 if either way read anything, else 1.
"""
import ctypes
import errno
import os
import sys


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def vm_readv(pid, addr):
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(64)
    local = Iovec(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = Iovec(addr, 64)
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    n = libc.process_vm_readv(pid, ctypes.byref(local), 1,
                              ctypes.byref(remote), 1, 0)
    if n < 0:
        return "vm_readv error " + errno.errorcode[ctypes.get_errno()], False
    return "vm_readv read %d" % n, n > 0


def mem_read(pid, addr):
    try:
        with open("/proc/%d/mem" % pid, "rb", buffering=0) as f:
            f.seek(addr)
            n = len(f.read(64))
    except OSError as e:
        return "mem error " + errno.errorcode[e.errno], False
    return "mem read %d" % n, n > 0


def main():
    pid, addr = int(sys.argv[1]), int(sys.argv[2], 16)
    ok = False
    for way in (vm_readv, mem_read):
        line, got = way(pid, addr)
        print(line)
        ok |= got
    sys.exit(0 if ok else 1)


main()
