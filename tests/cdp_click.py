#!/usr/bin/python3
"""Clicks frames of a profd flame graph in headless Chromium (standard
library only) through the DevTools protocol, and checks the zoom.

    cdp_click.py PORT URL-PREFIX

PORT is Chromium's --remote-debugging-port; the page whose URL starts
with URL-PREFIX is expected to show the stacks app;main;hot_leaf (90
samples) and app;main;cold_leaf (10 samples). Exits 1 with a message on
the first check that fails.
"""
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse
import urllib.request


class Cdp:
    """A DevTools connection over a minimal WebSocket client."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=15)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" %
            (u.path, u.hostname, u.port, key)).encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            c = self.sock.recv(1)
            if not c:
                raise EOFError("handshake")
            head += c
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError("no WebSocket: %r" % head[:80])
        self.next_id = 0

    def _exact(self, n):
        data = b""
        while len(data) < n:
            c = self.sock.recv(n - len(data))
            if not c:
                raise EOFError("connection closed")
            data += c
        return data

    def _frame(self, opcode, data):
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + body)

    def _message(self):
        payload = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else None
            data = self._exact(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0f
            if op == 9:
                self._frame(10, data)
                continue
            if op == 8:
                raise EOFError("closed by Chromium")
            payload += data
            if b0 & 0x80:
                return json.loads(payload)

    def call(self, method, **params):
        self.next_id += 1
        self._frame(1, json.dumps({"id": self.next_id, "method": method,
                                   "params": params}).encode())
        while True:
            msg = self._message()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg["result"]

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JS error: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def click(self, x, y):
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y,
                      button="left", buttons=1 if kind == "mousePressed"
                      else 0, clickCount=1)
        # Away from the graph, so that no hover text hides its state.
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=1, y=1)


STATE = """JSON.stringify({
  ready: document.readyState,
  width: document.getElementById('graph') ?
         document.getElementById('graph').clientWidth : 0,
  details: (document.getElementById('details') || {}).textContent || '',
  frames: Array.from(document.querySelectorAll('.frame')).map(function (e) {
    var r = e.getBoundingClientRect();
    return {name: e.getAttribute('data-name'), cls: e.className,
            x: r.left, y: r.top, w: r.width, h: r.height};
  }),
  reset: (function () {
    var e = document.getElementById('reset'), r;
    if (!e) return null;
    r = e.getBoundingClientRect();
    return {x: r.left + r.width / 2, y: r.top + r.height / 2};
  })()
})"""


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def page_url(port, prefix):
    end = time.time() + 30
    while time.time() < end:
        try:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                for p in json.load(r):
                    if p.get("type") == "page" and \
                            p.get("url", "").startswith(prefix):
                        return p["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    fail("no page for %s" % prefix)


def state(cdp):
    s = json.loads(cdp.js(STATE))
    s["by"] = {f["name"]: f for f in s["frames"]}
    return s


def wait_state(cdp, cond, what):
    end = time.time() + 15
    while time.time() < end:
        s = state(cdp)
        if s["ready"] == "complete" and cond(s):
            return s
        time.sleep(0.1)
    fail("%s; last state: %s" % (what, json.dumps(s)[:2000]))


def share(s, name):
    return s["by"][name]["w"] / s["width"]


def main():
    port, prefix = int(sys.argv[1]), sys.argv[2]
    cdp = Cdp(page_url(port, prefix))
    s = wait_state(cdp, lambda s: "cold_leaf" in s["by"] and
                   "hot_leaf" in s["by"] and s["reset"] is not None,
                   "the page shows no frames")
    for name, want in (("all", 1.0), ("app", 1.0), ("main", 1.0),
                       ("hot_leaf", 0.9), ("cold_leaf", 0.1)):
        if abs(share(s, name) - want) > 0.02:
            fail("%s is %.3f of the width, not %.2f" %
                 (name, share(s, name), want))
    cold = s["by"]["cold_leaf"]
    if not cold["y"] < s["by"]["main"]["y"] < s["by"]["all"]["y"]:
        fail("the root is not at the bottom")
    print("before: cold_leaf %.1f px of %d" % (cold["w"], s["width"]))
    cdp.click(cold["x"] + cold["w"] / 2, cold["y"] + cold["h"] / 2)
    s = wait_state(cdp, lambda s: "cold_leaf" in s["by"] and
                   share(s, "cold_leaf") > 0.98 and
                   "zoomed to" in s["details"],
                   "a click on cold_leaf did not zoom to it")
    if "hot_leaf" in s["by"]:
        fail("hot_leaf is still drawn when zoomed to cold_leaf")
    if "anc" not in s["by"]["main"]["cls"]:
        fail("main is not marked as an ancestor")
    if "zoomed to cold_leaf" not in s["details"]:
        fail("the details say %r" % s["details"])
    print("zoomed: cold_leaf %.1f px of %d; %s" %
          (s["by"]["cold_leaf"]["w"], s["width"], s["details"]))
    cdp.click(s["reset"]["x"], s["reset"]["y"])
    s = wait_state(cdp, lambda s: "hot_leaf" in s["by"] and
                   abs(share(s, "cold_leaf") - 0.1) < 0.02,
                   "Reset zoom did not zoom out")
    all_ = s["by"]["all"]
    main_ = s["by"]["main"]
    cdp.click(main_["x"] + 5, main_["y"] + main_["h"] / 2)
    cdp.click(all_["x"] + all_["w"] / 2, all_["y"] + all_["h"] / 2)
    wait_state(cdp, lambda s: "hot_leaf" in s["by"] and
               abs(share(s, "hot_leaf") - 0.9) < 0.02,
               "a click on the bottom frame did not zoom out")
    print("reset: back to the whole profile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
