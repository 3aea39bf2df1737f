"""Runs a command as an operator would from a terminal (test-only).

pty_run.py LOG PIDFILE -- COMMAND [ARG...]

Makes a pseudo-terminal, starts COMMAND as the leader of a new session
with the terminal as its controlling terminal and as its stdin, stdout
and stderr, writes its pid to PIDFILE and copies everything written to
the terminal into LOG until COMMAND exits. SIGTERM and SIGINT are passed
on to COMMAND. Exits with COMMAND's exit status (128 + signal if killed).
"""
import fcntl
import os
import signal
import sys
import termios


def child(slave, argv):
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 1024)
    os.execvp(argv[0], argv)


def copy(master, log, pid):
    while True:
        try:
            data = os.read(master, 65536)
        except InterruptedError:
            continue
        except OSError:  # EIO: every writer of the terminal is gone
            break
        if not data:
            break
        log.write(data)
        log.flush()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: pty_run.py LOG PIDFILE -- COMMAND [ARG...]")
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        child(slave, sys.argv[4:])
    os.close(slave)
    with open(sys.argv[2], "w") as f:
        f.write("%d\n" % pid)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    with open(sys.argv[1], "ab") as log:
        rv = copy(master, log, pid)
    sys.exit(rv if rv >= 0 else 128 - rv)


main()
