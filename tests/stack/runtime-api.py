#!/usr/bin/env python3
"""A one-event Lambda Runtime API: runs BINARY with AWS_LAMBDA_RUNTIME_API pointing here, hands
it EVENT_FILE on its first GET .../invocation/next (deadline: now + TIMEOUT seconds, as Lambda
sends it), prints the function's response (or error) on stdout and stops the process.
Exit status 0 on a response, 1 on an error or timeout.

    runtime-api.py BINARY EVENT_FILE [TIMEOUT]      # the function's environment: inherited
"""
import http.server
import os
import subprocess
import sys
import threading
import time
import uuid

binary, event_file = sys.argv[1], sys.argv[2]
timeout = int(sys.argv[3]) if len(sys.argv) > 3 else 300
event = open(event_file, "rb").read()
request_id = str(uuid.uuid4())
done = threading.Event()
result = {}


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

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next") and "served" not in result:
            result["served"] = True
            deadline = int((time.time() + timeout) * 1000)
            self.reply(200, event, [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", request_id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                ("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:us-east-1:000000000000:function:{os.path.basename(binary)}"),
            ])
        else:
            done.wait()  # the next event never comes: the process is stopped

    def do_POST(self):
        data = self.body()
        kind = self.path.rsplit("/", 1)[-1]
        result[kind] = data.decode("utf-8", "replace")
        self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        if kind in ("response", "error"):
            done.set()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
env.setdefault("AWS_LAMBDA_FUNCTION_NAME", os.path.basename(binary))
env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
env.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
proc = subprocess.Popen([binary], env=env)
finished = done.wait(timeout + 30)
proc.kill()
proc.wait()
server.shutdown()
if not finished:
    sys.exit(f"runtime-api: {binary} sent no response within {timeout + 30} s")
if "error" in result:
    print(result["error"])
    sys.exit(1)
print(result["response"])
