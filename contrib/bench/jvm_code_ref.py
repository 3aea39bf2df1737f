"""An independent CPU-time view of a JVM for the Java fidelity bench:
where its threads ran, by perf's cpu-clock, named by the code they ran.

jvm_code_ref.py dump PID DIR SECONDS [INTERVAL]
    Every INTERVAL s (default 2) for SECONDS, asks the JVM to write its
    perf map (the attach command "jcmd Compiler.perfmap", over the attach
    socket a jcmd has opened before) and keeps a copy as
    DIR/map.<CLOCK_MONOTONIC ns after the answer>.

jvm_code_ref.py leaves DIR < PERF_SCRIPT
    Reads `perf script -F time,ip,sym,dso` of a `perf record -g -k
    CLOCK_MONOTONIC` of the JVM and counts each sample once, at its first
    user-space frame (the kernel's frames are what the thread's system
    call did; a timer signal lands on that user frame): a compiled method
    named from the first map written after the sample ("pkg.Class.method",
    the root method of the compiled code, inlined callees included), the
    interpreter as [interpreter], other generated code as [stub], libjvm
    by its function, any other library as [other_native]. Prints "name
    count" lines, and "[unmapped] N" for JIT addresses no map held.

jvm_code_ref.py profd FILE LIBJVM
    The same view of profd-java's collapsed stacks in FILE: each stack
    counted at its top frame, a Java frame at the compiled method it is
    inlined into (the first frame below it not marked _[i]), an
    interpreted one as [interpreter], a stub as [stub], a function of
    LIBJVM (by its symbol table) by its name, any other native frame as
    [other_native]. profd's error frames without native frames above them
    are [error].

jvm_code_ref.py jfr JFR_TOOL FILE EVENT
    The same view of JFR's EVENT samples in recording FILE (read with the
    jfr tool JFR_TOOL): each at its first frame not marked inlined, an
    interpreted one as [interpreter]; a stack of inlined frames only
    (JFR stopped after one compiled frame's inlined methods) as [error].

C++ functions are compared demangled, without arguments, return type or
spaces.
"""
import bisect
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

LAMBDA = re.compile(r"\$\$Lambda(\$[0-9]+)?([./+]0x[0-9a-f]+)?")
HIDDEN = re.compile(r"/0x[0-9a-f]+")  # a hidden class's per-run suffix
METHOD = re.compile(r"^(?:\S+ )?([^ (]+\.[^ (]+)\(")


def perfmap(pid):
    """One "jcmd Compiler.perfmap" over the JVM's attach socket."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect("/proc/%d/root/tmp/.java_pid%d" % (pid, pid))
    s.sendall(b"1\0jcmd\0Compiler.perfmap\0\0\0")
    out = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
    s.close()
    return out.startswith(b"0")


def dump(pid, outdir, seconds, interval):
    src = "/proc/%d/root/tmp/perf-%d.map" % (pid, pid)
    sock = "/proc/%d/root/tmp/.java_pid%d" % (pid, pid)
    end = time.monotonic() + seconds
    while not os.path.exists(sock) and time.monotonic() < end:
        time.sleep(0.1)
    n = 0
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            if perfmap(pid):
                stamp = time.monotonic_ns()
                shutil.copyfile(src, os.path.join(outdir, "map.%d" % stamp))
                n += 1
        except OSError as e:
            print("jvm_code_ref: %s" % e, file=sys.stderr)
            if not os.path.exists("/proc/%d" % pid):
                break
        time.sleep(max(0.0, interval - (time.monotonic() - t0)))
    print("jvm_code_ref: %d maps" % n, file=sys.stderr)


def blob_name(name):
    """A perf map's name as the bench compares it."""
    if name == "Interpreter":
        return "[interpreter]"
    # A method is "pkg.Class.name(args)"; stubs, adapters and buffers are
    # other words ("StubRoutines (1)", "I2C/C2I adapters").
    m = METHOD.match(name)
    if m is None:
        return "[stub]"
    return HIDDEN.sub("", LAMBDA.sub("$$Lambda", m.group(1)))


def load_maps(outdir):
    maps = []
    for f in os.listdir(outdir):
        if not f.startswith("map."):
            continue
        starts, ends, names = [], [], []
        rows = []
        for line in open(os.path.join(outdir, f), errors="replace"):
            p = line.rstrip("\n").split(" ", 2)
            if len(p) == 3:
                rows.append((int(p[0], 16), int(p[1], 16), p[2]))
        rows.sort()
        for a, n, name in rows:
            starts.append(a)
            ends.append(a + n)
            names.append(blob_name(name))
        maps.append((int(f[4:]), starts, ends, names))
    maps.sort()
    return maps


def jit_name(maps, stamps, t_ns, ip):
    """The name of ip in the first map written after t_ns (else the last)."""
    k = bisect.bisect_left(stamps, t_ns)
    for m in maps[k:] + maps[:k][::-1]:
        _, starts, ends, names = m
        i = bisect.bisect_right(starts, ip) - 1
        if i >= 0 and ip < ends[i]:
            return names[i]
    return None


def cxx_name(name):
    """A demangled C++ name without its arguments and return type."""
    name = name.split("(", 1)[0]
    depth, cut = 0, 0
    for i, c in enumerate(name):
        depth += c == "<"
        depth -= c == ">"
        if c == " " and depth == 0:
            cut = i + 1
    return name[cut:]


def demangle(names):
    """names with every _Z symbol demangled (c++filt, when present)."""
    mangled = sorted({n for n in names if n.startswith("_Z")})
    if not mangled or shutil.which("c++filt") is None:
        return {}
    out = subprocess.run(["c++filt"], input="\n".join(mangled) + "\n",
                         capture_output=True, text=True).stdout.split("\n")
    return dict(zip(mangled, out))


OTHER = "[other_native]"  # a native library but libjvm


def native_name(sym, dso):
    if os.path.basename(dso) != "libjvm.so":
        return OTHER
    if sym and sym != "[unknown]":
        return cxx_name(sym.split("+0x", 1)[0])
    return "[libjvm.so]"


def libjvm_names(path):
    """The normalised names of the functions in path's symbol table."""
    out = subprocess.run(["nm", "-C", "--defined-only", path],
                         capture_output=True, text=True).stdout
    return {cxx_name(line.split(" ", 2)[2]).replace(" ", "")
            for line in out.split("\n") if line.count(" ") >= 2}


FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)$")


def samples(lines):
    """(time ns, [(ip, sym, dso), ...]) of each sample, top frame first."""
    t, frames = None, []
    for line in lines:
        m = FRAME.match(line)
        if m:
            frames.append((int(m.group(1), 16), m.group(2), m.group(3)))
            continue
        if t is not None:
            yield t, frames
        t, frames = None, []
        m = re.search(r"(\d+)\.(\d{9}):", line)
        if m:
            t = int(m.group(1)) * 10**9 + int(m.group(2))
    if t is not None:
        yield t, frames


def leaves(outdir):
    maps = load_maps(outdir)
    stamps = [m[0] for m in maps]
    counts = {}
    for t, frames in samples(sys.stdin):
        user = [f for f in frames if f[0] < 0x800000000000]
        if not user:
            continue
        ip, sym, dso = user[0]
        if (dso in ("", "[unknown]") or dso.startswith("//anon") or
                dso.startswith("[JIT]") or "/perf-" in dso):
            name = jit_name(maps, stamps, t, ip) or "[unmapped]"
        else:
            name = native_name(sym, dso)
        counts[name] = counts.get(name, 0) + 1
    for name, n in counts.items():
        print(name.replace(" ", ""), n)


JAVA = re.compile(r"_\[[01ji]\]$")


def profd_top(frames):
    """The name profd's stack is counted under (see profd above)."""
    top = frames[-1]
    if JAVA.search(top):
        i = len(frames) - 1
        while i > 0 and frames[i].endswith("_[i]"):
            i -= 1
        if frames[i].endswith("_[0]"):
            return "[interpreter]"
        name = re.sub(r"(:[0-9]+)?_\[[01ji]\]$", "", frames[i])
        return HIDDEN.sub("", LAMBDA.sub("$$Lambda", name))
    if top.startswith("[error") or top.startswith("[stale"):
        return "[error]"
    if top.lower() == "[interpreter]":
        return "[interpreter]"
    if top.startswith("["):
        return "[stub]" if "+0x" not in top else "[native]"
    return top


def profd(path, libjvm):
    counts = {}
    for line in open(path, errors="replace"):
        st, _, n = line.rstrip("\n").rpartition(" ")
        if not st or not n.isdigit():
            continue
        name = profd_top(st.split(";"))
        counts[name] = counts.get(name, 0) + int(n)
    names = demangle(counts)
    jvm = libjvm_names(libjvm)
    merged = {}
    for name, n in counts.items():
        if name.startswith("["):  # [stub], [interpreter], [error], [native]
            key = OTHER if name == "[native]" else name
        elif "." in name and "::" not in name:  # a Java method
            key = name
        else:
            key = cxx_name(names.get(name, name)).replace(" ", "")
            key = key if key in jvm else OTHER
        merged[key] = merged.get(key, 0) + n
    for name, n in merged.items():
        print(name, n)


def jfr(tool, path, event):
    out = subprocess.run([tool, "print", "--json", "--events", event, path],
                         capture_output=True, text=True).stdout
    counts = {}
    for e in json.loads(out)["recording"]["events"]:
        frames = (e["values"].get("stackTrace") or {}).get("frames") or []
        i = 0
        while i < len(frames) - 1 and frames[i].get("type") == "Inlined":
            i += 1
        if not frames or frames[i].get("type") == "Inlined":
            name = "[error]"  # no frame, or only inlined ones: root unknown
        elif frames[i].get("type") == "Interpreted":
            name = "[interpreter]"
        else:
            m = frames[i]["method"]
            name = "%s.%s" % (m["type"]["name"].replace("/", "."), m["name"])
            name = HIDDEN.sub("", LAMBDA.sub("$$Lambda", name))
        counts[name] = counts.get(name, 0) + 1
    for name, n in counts.items():
        print(name, n)


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "dump":
        interval = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
        dump(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), interval)
    elif len(sys.argv) == 3 and sys.argv[1] == "leaves":
        leaves(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "jfr":
        jfr(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "profd":
        profd(sys.argv[2], sys.argv[3])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


main()
