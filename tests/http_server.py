#!/usr/bin/python3
"""A test backend for profd-upload on 127.0.0.1 (standard library only).

Serves gProfiler Performance Studio's API (health check, profiles,
heartbeat, command completion) and Pyroscope's /ingest, records every
request it answers to DIR/requests.jsonl, and obeys a control port.

    http_server.py serve DIR [--token T] [--gpid N] [--max-body BYTES]
                         [--tls-cert PEM --tls-key PEM [--client-ca PEM]]
                         [--cloud aws|gcp|azure]
        Writes DIR/port (the API) and DIR/control_port, then serves
        until killed; with --tls-cert, the API speaks HTTPS (and with
        --client-ca, requires a client certificate signed by it); with
        --cloud, it also answers as that cloud's instance metadata
        service (GET, gProfiler's paths, with the header each cloud
        requires; the other clouds' paths answer 404).
    http_server.py control DIR MODE [SECONDS]
        MODE is ok, fail (503 on every request), hang (read the request,
        never answer), refuse (close the listening socket), or reject
        (400 "told to reject" to every profile and every /ingest). The mode holds for
        SECONDS (default: until the next control command).
    http_server.py command DIR ID start|stop|- [CONFIG_JSON]
        Queues a profiling command: the next heartbeat is answered with
        command_id ID, command_type start or stop (- : left out) and
        CONFIG_JSON (an object) as its combined_config; each queued
        command is answered once, in order. Without one, a heartbeat
        gets no command.
    http_server.py wait DIR PATH COUNT SECONDS
        Waits until COUNT requests to PATH were answered with 200; exits
        1 on timeout.

POST /api/v2/profiles is checked as strictly as Performance Studio's
route (backend/routers/profiles_routes.py) and its models check it: the
body's start_time, profile and gpid (else 422, FastAPI's validation
answer); the profile's first line "#" + JSON with a "metadata" object
that makes a valid AgentMetadata (every required field, of its type), and
for an agent_version >= 1.2.3 a gpid that is "" or a number (else 400
"Failed to parse v2 metadata", the server's message for all of these).
Then what the indexer (gprofiler_indexer/callstacks.go) relies on: every
stack line is "[idx;]container;frames count", with idx (a number naming
an entry of application_metadata) exactly when the header says
"application_metadata_enabled": true (else 400 with a message of this
server's own: the real one stores such a file and its indexer misreads
it). Unlike the real server it answers its --gpid to every agent (the real
one answers 0 to an agent_version below 1.2.3).

POST /api/metrics/heartbeat and /api/metrics/command_completion are
checked against the Studio's models (backend/models/metrics_models.py,
pydantic 1.10): HeartbeatRequest needs ip_address, hostname and
service_name as strings, and takes last_command_id (string or null),
received_command_ids and executed_command_ids (lists of strings or
null), status (string) and timestamp (a datetime or null);
CommandCompletionRequest needs command_id, hostname and a status of
"completed" or "failed", and takes execution_time (an integer or null),
error_message and results_path (strings or null). Anything else is 422,
FastAPI's validation answer. This server is stricter than pydantic in
one way: a number is not taken for a string. With --token, both need
"Authorization: Bearer TOKEN" (else 401).

Each line of requests.jsonl is a JSON object: t (unix time), method,
url (the request target as sent), path, query (name -> value), headers (lower-case name -> value), status,
answer (the JSON answered, if any), body_len (bytes received), gzip
(whether the body was gzip-encoded) and body (decoded: JSON object for
JSON, text for other bodies, or base64 under body_b64 for binary ones).
"""
import base64
import datetime
import gzip
import http.server
import json
import math
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request

MAX_BODY = 4 * 1024 * 1024  # Performance Studio refuses larger bodies

# Instance metadata services as gProfiler (granulate_utils) asks them:
# path -> (cloud, header that must be sent or None, answer).
CLOUD_PATHS = {
    "/latest/dynamic/instance-identity/document": ("aws", None, {
        "region": "eu-west-1", "availabilityZone": "eu-west-1b",
        "instanceType": "m5.large", "accountId": "123456789012",
        "imageId": "ami-0abc", "instanceId": "i-0123456789"}),
    "/latest/meta-data/instance-life-cycle": ("aws", None, "on-demand"),
    "/computeMetadata/v1/instance/": ("gcp", ("metadata-flavor", "Google"), {
        "zone": "projects/1234/zones/us-central1-a",
        "machineType": "projects/1234/machineTypes/n2-standard-4",
        "id": 4321987654321, "image": "debian-12", "name": "vm-1",
        "scheduling": {"preemptible": "FALSE"}, "preempted": "FALSE"}),
    "/metadata/instance/compute/": ("azure", ("metadata", "true"), {
        "vmSize": "Standard_D2s_v3", "zone": "1", "location": "westeurope",
        "subscriptionId": "sub-1", "resourceGroupName": "rg-1",
        "resourceId": "/subscriptions/sub-1/vm-1", "vmId": "vm-id-1",
        "name": "vm-1"}),
}


class State:
    """Mode, its end, and the request log, shared by every thread."""

    def __init__(self, directory, token, gpid, max_body):
        self.tls = None
        self.cloud = None
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
PARSE_FAILED = "Failed to parse v2 metadata"
GPID_SUPPORT_VERSION = (1, 2, 3)
# gprofiler_dev/postgres/schemas.py AgentMetadata: the fields without a
# default (public_ip and instance_type are set by the route itself).
AGENT_METADATA = (
    ("current_time", "datetime"), ("spawn_time", "datetime"),
    ("spawn_uptime_ms", "int"), ("private_ip", "str"), ("hostname", "str"),
    ("cloud_provider", "cloud"), ("processors", "int"),
    ("memory_capacity_mb", "int"), ("system_name", "str"),
    ("os_name", "str"), ("os_release", "str"), ("kernel_release", "str"),
    ("kernel_version", "str"), ("hardware_type", "str"), ("pid", "int"),
    ("mac_address", "str"), ("agent_version", "str"), ("libc_type", "str"),
    ("libc_version", "str"), ("python_version", "str"), ("run_mode", "str"),
    ("deployment_type", "str"), ("run_arguments", "dict"))
AGENT_OPTIONAL = (("cloud_info", "dict"), ("big_data", "dict"))
CLOUD_PROVIDERS = ("aws", "gcp", "azure", "unknown")  # any case


def valid_datetime(v):
    """pydantic's datetime: a number (unix time) or an ISO 8601 string."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return math.isfinite(v)
    if not isinstance(v, str):
        return False
    try:
        datetime.datetime.fromisoformat(v)
        return True
    except ValueError:
        return False


def valid_int(v):
    """pydantic's lax int: a number or a string of digits."""
    if isinstance(v, (int, float)):
        return not isinstance(v, float) or math.isfinite(v)
    return isinstance(v, str) and re.fullmatch(r"\s*[-+]?\d+\s*", v) \
        is not None


VALID = {
    "datetime": valid_datetime,
    "int": valid_int,
    "str": lambda v: isinstance(v, str),
    "dict": lambda v: isinstance(v, dict),
    "cloud": lambda v: isinstance(v, str) and v.lower() in CLOUD_PROVIDERS,
}


def agent_metadata_error(md):
    """Why md is no valid AgentMetadata, or None."""
    if not isinstance(md, dict):
        return "metadata is not an object"
    for name, kind in AGENT_METADATA:
        if name not in md:
            return "metadata.%s is missing" % name
        if not VALID[kind](md[name]):
            return "metadata.%s is not a %s: %r" % (name, kind, md[name])
    for name, kind in AGENT_OPTIONAL:
        if name in md and not VALID[kind](md[name]):
            return "metadata.%s is not a %s" % (name, kind)
    return None


def version_tuple(v):
    m = re.match(r"(\d+(?:\.\d+)*)", v)
    if m is None:
        return None
    return tuple(int(x) for x in m.group(1).split("."))


def header_error(body):
    """Why the route would answer 400 "Failed to parse v2 metadata" to
    body, or None; also returns the parsed header."""
    profile = body["profile"]
    first = profile.split("\n", 1)[0]
    if not first.startswith("#"):
        return "the profile's first line is no # header", None
    try:
        head = json.loads(first[1:])
    except ValueError:
        return "the header is not JSON", None
    if not isinstance(head, dict) or not isinstance(
            head.get("containers", []), list):
        return "the header is not an object", None
    md = head.get("metadata")
    if md is None:
        return "the header has no metadata", None
    why = agent_metadata_error(md)
    if why is not None:
        return why, None
    ver = version_tuple(md["agent_version"])
    if ver is None:
        return "agent_version is no version: %r" % md["agent_version"], None
    if ver >= GPID_SUPPORT_VERSION:
        gpid = body["gpid"]
        if gpid not in ("", 0) and not valid_int(gpid):
            return "gpid is no number: %r" % gpid, None
    return None, head


def lines_error(head, profile):
    """Why the indexer would misread the profile's stack lines, or None."""
    enabled = head.get("application_metadata_enabled") is True
    appmd = head.get("application_metadata")
    nappmd = len(appmd) if isinstance(appmd, list) else 0
    v1 = (head["metadata"].get("run_arguments") or {}) \
        .get("profile_api_version") == "v1"
    for n, line in enumerate(profile.split("\n")[1:], 2):
        if line.strip() == "" or line.startswith("#"):
            continue
        stack, _, count = line.strip().rpartition(" ")
        if not count.isdigit() or stack == "":
            return "line %d has no sample count" % n
        fields = stack.split(";")
        want = (1 if enabled else 0) + (0 if v1 else 1) + 1
        if len(fields) < want:
            return "line %d has %d fields, fewer than %d" % (
                n, len(fields), want)
        if enabled and not (fields[0].isdigit() and
                            int(fields[0]) < max(nappmd, 1)):
            return ("line %d: application_metadata_enabled is true but it "
                    "has no index of application_metadata" % n)
        if not enabled and not v1 and fields[0].isdigit() and \
                len(fields) >= 3:
            return ("line %d starts with an index but "
                    "application_metadata_enabled is not true: the "
                    "indexer would read %r as its container" % (n, fields[0]))
    return None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def str_list(v):
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


# The Studio's heartbeat models: name -> (required, check of a value
# that is present and not null; None: null allowed only when optional).
HEARTBEAT_REQUEST = {
    "ip_address": (True, lambda v: isinstance(v, str)),
    "hostname": (True, lambda v: isinstance(v, str)),
    "service_name": (True, lambda v: isinstance(v, str)),
    "last_command_id": (False, lambda v: isinstance(v, str)),
    "received_command_ids": (False, str_list),
    "executed_command_ids": (False, str_list),
    "status": (False, lambda v: isinstance(v, str)),
    "timestamp": (False, valid_datetime),
}
COMPLETION_REQUEST = {
    "command_id": (True, lambda v: isinstance(v, str)),
    "hostname": (True, lambda v: isinstance(v, str)),
    "status": (True, lambda v: v in ("completed", "failed")),
    "execution_time": (False, is_int),
    "error_message": (False, lambda v: isinstance(v, str)),
    "results_path": (False, lambda v: isinstance(v, str)),
}


def model_error(body, model):
    """FastAPI's 422 for a body that does not make the model, or None."""
    if not isinstance(body, dict):
        return {"detail": [{"loc": ["body"], "msg": "not an object"}]}
    for name, (required, ok) in model.items():
        v = body.get(name)
        if v is None and not required:
            continue
        if v is None:
            return {"detail": [{"loc": ["body", name],
                                "msg": "field required"}]}
        if not ok(v):
            return {"detail": [{"loc": ["body", name],
                                "msg": "invalid %s: %r" % (name, v)}]}
    return None


def agent_data_error(body):
    """FastAPI's 422 for the body's model AgentData, or None."""
    if not isinstance(body, dict):
        return {"detail": [{"loc": ["body"], "msg": "not an object"}]}
    for name, ok in (("start_time", valid_datetime),
                     ("profile", lambda v: isinstance(v, str)),
                     ("gpid", lambda v: isinstance(v, (str, int)) and
                      not isinstance(v, bool))):
        if name not in body:
            return {"detail": [{"loc": ["body", name],
                                "msg": "field required"}]}
        if not ok(body[name]):
            return {"detail": [{"loc": ["body", name],
                                "msg": "invalid %s" % name}]}
    return None


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
            "url": self.path,
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
        elif method == "GET" and path in CLOUD_PATHS:
            self.cloud_metadata(path, headers, entry)
        elif method == "GET" and path == "/api/v1/health_check":
            self.answer(200, {"message": "healthy"}, entry)
        elif method == "POST" and path == "/api/v2/profiles":
            self.studio_profile(headers, entry)
        elif method == "POST" and path == "/api/metrics/heartbeat":
            self.heartbeat(headers, entry)
        elif method == "POST" and path == "/api/metrics/command_completion":
            if self.metrics_refused(headers, entry, COMPLETION_REQUEST):
                return
            self.answer(200, {"success": True}, entry)
        elif method == "POST" and path == "/ingest":
            if self.state.current_mode() == "reject":
                self.answer(400, {"code": "invalid_argument",
                                  "message": "told to reject"}, entry)
            else:
                self.answer(200, {}, entry)
        else:
            self.answer(404, {"message": "no such endpoint"}, entry)

    def cloud_metadata(self, path, headers, entry):
        cloud, need, doc = CLOUD_PATHS[path]
        if cloud != self.state.cloud:
            self.answer(404, {"message": "not this cloud"}, entry)
        elif need is not None and headers.get(need[0]) != need[1]:
            self.answer(400, {"message": "missing header %s" % need[0]},
                        entry)
        elif isinstance(doc, str):
            data = doc.encode()
            entry["status"] = 200
            self.state.record(entry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.answer(200, doc, entry)

    def metrics_refused(self, headers, entry, model):
        """Answers 401 or 422 and returns True when the request is not
        what the Studio's metrics routes take."""
        st = self.state
        if st.token is not None and \
                headers.get("authorization") != "Bearer " + st.token:
            self.answer(401, {"message": "bad bearer token"}, entry)
            return True
        if "json" not in headers.get("content-type", ""):
            self.answer(422, {"detail": [{"loc": ["body"],
                                          "msg": "JSON expected"}]}, entry)
            return True
        invalid = model_error(entry.get("body"), model)
        if invalid is not None:
            self.answer(422, invalid, entry)
            return True
        return False

    def heartbeat(self, headers, entry):
        if self.metrics_refused(headers, entry, HEARTBEAT_REQUEST):
            return
        with self.state.lock:
            cmd = self.state.commands.pop(0) \
                if self.state.commands else None
        if cmd is None:
            cmd = {"success": True, "message": "no command",
                   "profiling_command": None, "command_id": None}
        self.answer(200, cmd, entry)

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
        invalid = agent_data_error(body)
        if invalid is not None:
            self.answer(422, invalid, entry)
            return
        missing = [f for f in STUDIO_FIELDS if f not in body]
        if missing:
            self.answer(400, {"message": "missing " + ",".join(missing)},
                        entry)
            return
        why, head = header_error(body)
        if why is not None:
            entry["why"] = why
            self.answer(400, {"message": PARSE_FAILED}, entry)
            return
        why = lines_error(head, body["profile"])
        if why is not None:
            self.answer(400, {"message": "indexer: " + why}, entry)
            return
        if st.current_mode() == "reject":
            self.answer(400, {"message": "told to reject"}, entry)
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
        if mode not in ("ok", "fail", "hang", "refuse", "reject"):
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
    st.cloud = opts.get("--cloud")
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
    if ctype == "-":
        del answer["profiling_command"]["command_type"]
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
