#!/usr/bin/env python3
"""Reads during a run, as a dashboard or an orchestrator polling it would
make them: each URL in turn on one kept-alive connection, every
`--every` seconds, until SIGINT or SIGTERM; then prints each URL's
request count, p50, p99 and maximum latency in milliseconds.

    benches/poll_reads.py --port 8080 --every 0.05 /api/v1/notifications?limit=20 ...

Used by benches/scenario_run.sh (READS=1)."""

import argparse
import http.client
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--every", type=float, default=0.05)
parser.add_argument("paths", nargs="+")
args = parser.parse_args()

stop = False


def finish(*_):
    global stop
    stop = True


signal.signal(signal.SIGINT, finish)
signal.signal(signal.SIGTERM, finish)

conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
timings = {p: [] for p in args.paths}
failures = {p: 0 for p in args.paths}
while not stop:
    for path in args.paths:
        start = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            ok = False
        if ok:
            timings[path].append((time.perf_counter() - start) * 1000)
        else:
            failures[path] += 1
    time.sleep(args.every)


def quantile(sorted_ms, q):
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


for path in args.paths:
    ms = sorted(timings[path])
    if not ms:
        print(f"  reads {path}: none answered ({failures[path]} failed)")
        continue
    print(
        f"  reads {path}: {len(ms)} requests, p50 {quantile(ms, 0.5):.1f} ms, "
        f"p99 {quantile(ms, 0.99):.1f} ms, max {ms[-1]:.1f} ms, {failures[path]} failed"
    )
sys.stdout.flush()
