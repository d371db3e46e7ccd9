#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a test registry, for kslurm's registry-client tests.

The first path component after /v2/ picks the fault; the rest is the real repository:
  /v2/fail500/REPO/...      manifests answer 500 (blobs pass)
  /v2/drop/REPO/...         a blob over 64 KiB is cut off half-way the first time it is asked for
  /v2/dropnorange/REPO/...  the same, and afterwards Range is ignored (the full blob, 200)
  /v2/garbage/REPO/...      blobs arrive with every byte flipped (right length, wrong content)
  /v2/badmanifest/REPO/...  manifests arrive altered, with the registry's Docker-Content-Digest
  /v2/slow/REPO/...         blobs trickle: 64 KiB every 50 ms
  /v2/ok/REPO/...           no fault
GET /_log returns the requests seen so far as JSON lines (method, path, range, status, bytes).

usage: fault_proxy.py UPSTREAM-HOST:PORT   (listens on a free 127.0.0.1 port, printed as "PORT n";
exits when its standard input closes, so it never outlives the test run that started it)
"""
import http.client, http.server, json, sys, threading, time

UPSTREAM = sys.argv[1]
MODES = {"fail500", "drop", "dropnorange", "garbage", "badmanifest", "slow", "ok"}
log_lines, dropped, lock = [], set(), threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, status, sent, mode=""):
        with lock:
            log_lines.append(json.dumps({"method": self.command, "path": self.path, "mode": mode,
                                         "range": self.headers.get("Range"), "status": status, "bytes": sent}))

    def send_body(self, status, headers, body, mode):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.record(status, len(body), mode)  # before writing: a client may hang up mid-way
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        if self.path == "/_log":
            with lock:
                body = ("\n".join(log_lines) + "\n").encode()
            return self.send_body(200, [("Content-Type", "text/plain")], body, "")
        parts = self.path.split("/")
        mode = ""
        path = self.path
        if len(parts) > 3 and parts[1] == "v2" and parts[2] in MODES:
            mode = parts[2]
            path = "/".join(parts[:2] + parts[3:])
        is_manifest = "/manifests/" in path
        is_blob = "/blobs/" in path
        if mode == "fail500" and is_manifest:
            return self.send_body(500, [("Content-Type", "application/json")],
                                  b'{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}', mode)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization", "range", "user-agent")}
        if mode == "dropnorange" and is_blob and path in dropped:
            headers.pop("Range", None)
        conn = http.client.HTTPConnection(UPSTREAM, timeout=30)
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        if mode == "badmanifest" and is_manifest and resp.status == 200:
            body = body + b" "
        if mode == "garbage" and is_blob and resp.status in (200, 206):
            body = bytes(b ^ 0xFF for b in body)
        if mode in ("drop", "dropnorange") and is_blob and resp.status == 200 and len(body) > 65536:
            with lock:
                first = path not in dropped
                dropped.add(path)
            if first:
                half = len(body) // 2
                self.send_response(resp.status)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:half])
                self.wfile.flush()
                self.record(resp.status, half, mode + ":cut")
                self.close_connection = True
                return
        if mode == "slow" and is_blob and resp.status in (200, 206):
            self.send_response(resp.status)
            for k, v in out_headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.record(resp.status, len(body), mode)
            for at in range(0, len(body), 65536):
                self.wfile.write(body[at:at + 65536])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.send_body(resp.status, out_headers, body, mode)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"PORT {server.server_address[1]}", flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # the test run holds our stdin; when it goes away, so do we
