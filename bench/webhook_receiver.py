#!/usr/bin/env python3
"""webhook_receiver.py - a tiny HTTP receiver for webhook benchmarks and
stress tests (scripts/bench figure 5, scripts/stress scenario d).

    webhook_receiver.py PORTFILE COUNTFILE [--delay SECONDS] [--status CODE]

Listens on 127.0.0.1 on a free port, writes the port number to PORTFILE
once it is listening, and answers every POST after sleeping --delay
seconds (default 0.2) with --status (default 200) and a tiny JSON body.
Each request appends one line to COUNTFILE ("<path> <body bytes>") when it
arrives, so the caller can count deliveries.  Requests are served in
threads (ThreadingHTTPServer) with a listen backlog of 512, so 100
concurrent deliveries all wait the same 200 ms instead of queueing.
Runs until killed.
"""
import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("countfile")
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--status", type=int, default=200)
    args = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            with lock:
                with open(args.countfile, "a") as f:
                    f.write("%s %d\n" % (self.path, len(body)))
            time.sleep(args.delay)
            out = b'{"ok":true}\n'
            self.send_response(args.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_PUT = do_POST

        def log_message(self, fmt, *a):
            pass

    srv = Server(("127.0.0.1", 0), Handler)
    tmp = args.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.portfile)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
