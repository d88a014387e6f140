#!/usr/bin/env python3
"""A Standard Webhooks receiver for the API tests (tests/api/standard_webhooks.rs).

It verifies every request to POST /hook with the reference library from PyPI,
standardwebhooks.Webhook(secret).verify(body, headers), using the one secret it
knows: WEBHOOK_SECRET (labelled WEBHOOK_SECRET_LABEL) at start, replaced by
PUT /secret with {"label": ..., "secret": ...}.
It answers 401 to a request that does not verify, 500 with Retry-After: 1 to
the first verified delivery of a webhook-id, and 204 to every later one.
GET /calls lists every request as JSON: its webhook headers and body, which
secret verified it (null when none did, with the error), and the answer.

It listens on 127.0.0.1 on a free port, prints "listening on PORT" once ready,
and exits when its standard input closes (the test ended or died) or after
--max-seconds, whichever comes first.
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

STATE_LOCK = threading.Lock()
STATE = {
    "label": os.environ.get("WEBHOOK_SECRET_LABEL", "initial"),
    "secret": os.environ["WEBHOOK_SECRET"],
    "calls": [],
    "seen": set(),
}


class Handler(BaseHTTPRequestHandler):
    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/hook":
            return self._answer(404)
        body = self._body()
        with STATE_LOCK:
            label, secret = STATE["label"], STATE["secret"]
        call = {
            "webhook-id": self.headers.get("webhook-id"),
            "webhook-timestamp": self.headers.get("webhook-timestamp"),
            "webhook-signature": self.headers.get("webhook-signature"),
            "body": body.decode("utf-8", "replace"),
            "verified_with": None,
            "error": None,
        }
        try:
            Webhook(secret).verify(body, dict(self.headers.items()))
            call["verified_with"] = label
        except WebhookVerificationError as e:
            call["error"] = str(e)
        with STATE_LOCK:
            if call["verified_with"] is None:
                call["status"] = 401
            elif call["webhook-id"] not in STATE["seen"]:
                STATE["seen"].add(call["webhook-id"])
                call["status"] = 500
            else:
                call["status"] = 204
            STATE["calls"].append(call)
        headers = [("Retry-After", "1")] if call["status"] == 500 else []
        self._answer(call["status"], headers=headers)

    def do_PUT(self):
        if self.path != "/secret":
            return self._answer(404)
        change = json.loads(self._body())
        with STATE_LOCK:
            STATE["label"], STATE["secret"] = change["label"], change["secret"]
        self._answer(204)

    def do_GET(self):
        if self.path != "/calls":
            return self._answer(404)
        with STATE_LOCK:
            body = json.dumps(STATE["calls"]).encode()
        self._answer(200, body, [("Content-Type", "application/json")])

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on {server.server_address[1]}", flush=True)
    stdin_closed = threading.Event()

    def wait_for_eof():
        sys.stdin.read()
        stdin_closed.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    stdin_closed.wait(args.max_seconds)
    server.shutdown()


if __name__ == "__main__":
    main()
