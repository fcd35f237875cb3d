#!/usr/bin/env python3
"""Runs BINARY under cargo-lambda's Lambda Runtime API (`cargo lambda watch --only-lambda-apis`
at UPSTREAM) through this proxy, which forwards the function's Runtime API calls for FUNCTION
and mends the one header cargo-lambda 1.9.x gets wrong: `Lambda-Runtime-Deadline-Ms`, sent as
the constant 600000 (1970-01-01T00:10:00Z), becomes now + TIMEOUT seconds, as Lambda sends it.
The event, request ID, response and error are cargo-lambda's own; `cargo lambda invoke` gets
the function's answer from it. While cargo-lambda has no event queued (204) the proxy asks
again. Stops the function after its first response or error; exit 0 on a response, 1 on an
error or timeout. The Extensions API (a function using lambda_runtime's graceful shutdown
registers a no-op extension) is answered here as Lambda answers it: registration succeeds, and
no event comes before the function is stopped.

    deadline-proxy.py UPSTREAM FUNCTION BINARY [TIMEOUT]    # the function's environment: inherited
"""
import http.server
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import json
import uuid

upstream, function, binary = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
timeout = int(sys.argv[4]) if len(sys.argv) > 4 else 300
done = threading.Event()
EXTENSION_API = "/2020-01-01/extension"
result = {}


def forward(method, path, body=None):
    """The upstream's status, headers and body for one call (HTTP errors included)."""
    request = urllib.request.Request(f"{upstream}/.rt/{function}{path}", data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except ConnectionError:  # the stopped function's keep-alive connection
            pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def relay(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith(EXTENSION_API):
            done.wait()  # an extension's next event: none before the function is stopped
            return
        if done.is_set():
            done.wait()  # no second event: the process is being stopped
            return
        while True:
            status, headers, body = forward("GET", self.path)
            if status != 204:
                break
            time.sleep(0.1)
        for k in list(headers):
            if k.lower() == "lambda-runtime-deadline-ms":
                headers[k] = str(int((time.time() + timeout) * 1000))
        self.relay(status, headers, body)

    def do_POST(self):
        data = self.body()
        if self.path == f"{EXTENSION_API}/register":
            body = json.dumps({"functionName": function, "functionVersion": "$LATEST", "handler": "bootstrap"})
            self.relay(200, {"Lambda-Extension-Identifier": str(uuid.uuid4()), "Content-Type": "application/json"}, body.encode())
            return
        status, headers, body = forward("POST", self.path, data)
        self.relay(status, headers, body)
        kind = self.path.rsplit("/", 1)[-1]
        if kind in ("response", "error"):
            result[kind] = data.decode("utf-8", "replace")
            done.set()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
env.update(AWS_LAMBDA_FUNCTION_NAME=function)
env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
env.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
proc = subprocess.Popen([binary], env=env)
finished = done.wait(timeout + 30)
proc.kill()
proc.wait()
server.shutdown()
if not finished:
    sys.exit(f"deadline-proxy: {binary} sent no response within {timeout + 30} s")
sys.exit(1 if "error" in result else 0)
