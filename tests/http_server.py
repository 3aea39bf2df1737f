#!/usr/bin/python3
"""A test backend for profd-upload on 127.0.0.1 (standard library only).

Serves gProfiler Performance Studio's API (health check, profiles,
heartbeat, command completion) and Pyroscope's /ingest, records every
request it answers to DIR/requests.jsonl, and obeys a control port.

    http_server.py serve DIR [--token T] [--gpid N] [--max-body BYTES]
                         [--tls-cert PEM --tls-key PEM [--client-ca PEM]]
        Writes DIR/port (the API) and DIR/control_port, then serves
        until killed; with --tls-cert, the API speaks HTTPS (and with
        --client-ca, requires a client certificate signed by it).
    http_server.py control DIR MODE [SECONDS]
        MODE is ok, fail (503 on every request), hang (read the request,
        never answer), or refuse (close the listening socket). The mode
        holds for SECONDS (default: until the next control command).
    http_server.py command DIR ID start|stop [CONFIG_JSON]
        Queues a profiling command: the next heartbeat is answered with
        command_id ID, command_type start or stop and CONFIG_JSON (an
        object) as its combined_config; each queued command is answered
        once, in order. Without one, a heartbeat gets no command.
    http_server.py wait DIR PATH COUNT SECONDS
        Waits until COUNT requests to PATH were answered with 200; exits
        1 on timeout.

Each line of requests.jsonl is a JSON object: t (unix time), method,
path, query (name -> value), headers (lower-case name -> value), status,
answer (the JSON answered, if any), body_len (bytes received), gzip
(whether the body was gzip-encoded) and body (decoded: JSON object for
JSON, text for other bodies, or base64 under body_b64 for binary ones).
"""
import base64
import gzip
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request

MAX_BODY = 4 * 1024 * 1024  # Performance Studio refuses larger bodies


class State:
    """Mode, its end, and the request log, shared by every thread."""

    def __init__(self, directory, token, gpid, max_body):
        self.tls = None
        self.dir = directory
        self.token = token
        self.gpid = gpid
        self.max_body = max_body
        self.lock = threading.Lock()
        self.mode = "ok"
        self.until = None
        self.api = None
        self.port = None
        self.commands = []
        self.log = open(os.path.join(directory, "requests.jsonl"), "a",
                        encoding="utf-8")

    def current_mode(self):
        with self.lock:
            if self.until is not None and time.time() >= self.until:
                self.mode, self.until = "ok", None
            return self.mode

    def record(self, entry):
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()


def decode_body(raw, headers):
    """Returns (is_gzip, decoded dict fields) for a request body."""
    out = {}
    gz = headers.get("content-encoding", "") == "gzip"
    data = raw
    if gz:
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            out["body_error"] = "bad gzip: %s" % e
            return gz, out
    ctype = headers.get("content-type", "")
    if "json" in ctype:
        try:
            out["body"] = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            out["body_error"] = "bad JSON: %s" % e
    else:
        try:
            out["body"] = data.decode("utf-8")
        except UnicodeDecodeError:
            out["body_b64"] = base64.b64encode(data).decode("ascii")
    return gz, out


STUDIO_FIELDS = ("start_time", "end_time", "hostname", "profile", "cpu_avg",
                 "mem_avg", "spawn_time", "gpid")


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by serve()

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return None
        n = int(n)
        return self.rfile.read(n) if n > 0 else b""

    def answer(self, status, obj, entry):
        data = json.dumps(obj).encode()
        entry["status"] = status
        entry["answer"] = obj
        self.state.record(entry)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def hang(self):
        # Keep the connection open and silent while the mode holds.
        while self.state.current_mode() == "hang":
            time.sleep(0.05)
        self.close_connection = True

    def handle_any(self, method):
        st = self.state
        url = urllib.parse.urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {
            "t": time.time(),
            "method": method,
            "path": url.path,
            "query": dict(urllib.parse.parse_qsl(url.query,
                                                 keep_blank_values=True)),
            "headers": headers,
        }
        raw = self.read_body() if method == "POST" else b""
        mode = st.current_mode()
        if mode == "hang":
            self.hang()
            return
        if method == "POST" and raw is None:
            self.answer(411, {"message": "Content-Length required"}, entry)
            return
        entry["body_len"] = len(raw)
        # Stricter than the real server (which reads the key from its
        # header only): proxies log URLs, so the token is never in one.
        if st.token is not None and \
                urllib.parse.quote(st.token, safe="") in self.path or \
                st.token is not None and st.token in self.path:
            self.answer(400, {"message": "the API key is in the URL"}, entry)
            return
        if mode == "fail":
            self.answer(503, {"message": "told to fail"}, entry)
            return
        if len(raw) > st.max_body:
            self.answer(413, {"message": "body over %d bytes" % st.max_body},
                        entry)
            return
        entry["gzip"], fields = decode_body(raw, headers)
        entry.update(fields)
        self.route(method, url.path, headers, entry)

    def route(self, method, path, headers, entry):
        if "body_error" in entry:
            self.answer(400, {"message": entry["body_error"]}, entry)
        elif method == "GET" and path == "/api/v1/health_check":
            self.answer(200, {"message": "healthy"}, entry)
        elif method == "POST" and path == "/api/v2/profiles":
            self.studio_profile(headers, entry)
        elif method == "POST" and path == "/api/metrics/heartbeat":
            with self.state.lock:
                cmd = self.state.commands.pop(0) \
                    if self.state.commands else None
            if cmd is None:
                cmd = {"success": True, "message": "no command"}
            self.answer(200, cmd, entry)
        elif method == "POST" and path == "/api/metrics/command_completion":
            self.answer(200, {"success": True}, entry)
        elif method == "POST" and path == "/ingest":
            self.answer(200, {}, entry)
        else:
            self.answer(404, {"message": "no such endpoint"}, entry)

    def studio_profile(self, headers, entry):
        st = self.state
        if st.token is not None and \
                headers.get("gprofiler-api-key") != st.token:
            self.answer(401, {"message": "bad API key"}, entry)
            return
        if not entry.get("gzip") or \
                headers.get("content-type") != "application/json":
            self.answer(400, {"message": "gzipped JSON expected"}, entry)
            return
        body = entry.get("body")
        missing = [f for f in STUDIO_FIELDS
                   if not isinstance(body, dict) or f not in body]
        if missing:
            self.answer(400, {"message": "missing " + ",".join(missing)},
                        entry)
            return
        self.answer(200, {"message": "ok", "gpid": st.gpid}, entry)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def api_run(st):
    """Serves the API on st.port until the mode becomes refuse."""
    while True:
        while st.current_mode() == "refuse":
            time.sleep(0.05)
        try:
            srv = Server(("127.0.0.1", st.port or 0), Api)
        except OSError:
            time.sleep(0.1)
            continue
        if st.tls is not None:
            srv.socket = st.tls.wrap_socket(srv.socket, server_side=True)
        if st.port is None:
            st.port = srv.server_address[1]
            write_file(os.path.join(st.dir, "port"), str(st.port))
        st.api = srv
        srv.serve_forever(poll_interval=0.05)
        srv.server_close()


class Control(http.server.BaseHTTPRequestHandler):
    state = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path)
                                        .query))
        if "command" in q:
            with self.state.lock:
                self.state.commands.append(json.loads(q["command"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        mode = q.get("mode", "ok")
        if mode not in ("ok", "fail", "hang", "refuse"):
            self.send_error(400)
            return
        secs = float(q["seconds"]) if q.get("seconds") else None
        st = self.state
        with st.lock:
            st.mode = mode
            st.until = time.time() + secs if secs else None
        srv = st.api
        if mode == "refuse" and srv is not None:
            # Closed before answering: no connection gets through after.
            st.api = None
            srv.shutdown()
            srv.server_close()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def serve(argv):
    directory = argv[0]
    opts = dict(zip(argv[1::2], argv[2::2]))
    st = State(directory, opts.get("--token"),
               int(opts.get("--gpid", "4242")),
               int(opts.get("--max-body", str(MAX_BODY))))
    if "--tls-cert" in opts:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts["--tls-cert"], opts["--tls-key"])
        if "--client-ca" in opts:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(opts["--client-ca"])
        st.tls = ctx
    Api.state = st
    Control.state = st
    ctl = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=api_run, args=(st,), daemon=True).start()
    for _ in range(100):
        if st.port is not None:
            break
        time.sleep(0.05)
    write_file(os.path.join(directory, "control_port"),
               str(ctl.server_address[1]))
    ctl.serve_forever()


def control(argv):
    directory, mode = argv[0], argv[1]
    secs = argv[2] if len(argv) > 2 else ""
    with open(os.path.join(directory, "control_port"), encoding="ascii") as f:
        port = int(f.read())
    url = "http://127.0.0.1:%d/?mode=%s&seconds=%s" % (port, mode, secs)
    urllib.request.urlopen(url, timeout=10).read()


def command(argv):
    directory, cid, ctype = argv[0], argv[1], argv[2]
    config = json.loads(argv[3]) if len(argv) > 3 else {}
    answer = {"success": True, "message": "command", "command_id": cid,
              "profiling_command": {"command_type": ctype,
                                    "combined_config": config}}
    with open(os.path.join(directory, "control_port"), encoding="ascii") as f:
        port = int(f.read())
    url = "http://127.0.0.1:%d/?%s" % (
        port, urllib.parse.urlencode({"command": json.dumps(answer)}))
    urllib.request.urlopen(url, timeout=10).read()


def answered(directory, path):
    n = 0
    try:
        with open(os.path.join(directory, "requests.jsonl"),
                  encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                if e["path"] == path and e.get("status") == 200:
                    n += 1
    except FileNotFoundError:
        pass
    return n


def wait(argv):
    directory, path, count, secs = argv[0], argv[1], int(argv[2]), \
        float(argv[3])
    end = time.time() + secs
    while time.time() < end:
        if answered(directory, path) >= count:
            return 0
        time.sleep(0.1)
    print("http_server: %d of %d answered requests to %s" %
          (answered(directory, path), count, path), file=sys.stderr)
    return 1


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(argv)
        return 0
    if cmd == "control":
        control(argv)
        return 0
    if cmd == "wait":
        return wait(argv)
    if cmd == "command":
        command(argv)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    sys.exit(main())
