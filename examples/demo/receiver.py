#!/usr/bin/env python3
"""receiver.py - the demo's webhook receiver: prints what cairn sends.

    receiver.py PORTFILE [SECRET_ENV]

Listens on 127.0.0.1 on a free port, writes the port number to PORTFILE
once it is listening, and prints one summary line per POST: the event, the
run's counts, and whether X-Cairn-Signature is the HMAC-SHA256 of
"<X-Cairn-Timestamp>.<body>" keyed with the secret in $SECRET_ENV (see
include/cairn/webhook.h).  It answers 204 and runs until it is killed.
"""
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    secret = b""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)

        sig = self.headers.get("X-Cairn-Signature", "")
        stamp = self.headers.get("X-Cairn-Timestamp", "")
        if not self.secret:
            verdict = "unsigned"
        else:
            want = hmac.new(self.secret, stamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(sig, "sha256=" + want)
            verdict = "signature ok" if ok else "BAD SIGNATURE"
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        what = "%s (%s) on %s: %s of %s done, %s failed, by %s" % (
            doc.get("event", self.headers.get("X-Cairn-Event", "?")),
            doc.get("direction") or "-", doc.get("environment", "?"),
            doc.get("done", "?"), doc.get("planned", "?"),
            doc.get("failed", "?"), doc.get("actor", "?"))
        print("receiver: POST %s (%d bytes, %s): %s"
              % (self.path, len(body), verdict, what), flush=True)
        # answer only after printing: cairn waits for its async deliveries
        # before it exits, so the line is there when the command returns
        self.send_response(204)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass  # one line per delivery is enough


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: receiver.py PORTFILE [SECRET_ENV]")
    if len(sys.argv) == 3:
        Handler.secret = os.environ.get(sys.argv[2], "").encode()
    server = HTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, sys.argv[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
