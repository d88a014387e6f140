#!/usr/bin/env python3
"""The scheduler under 10,000 registered jobs (benches/scheduler_lateness.sh
starts the service and calls this).

1. Registers the jobs through the API: daily and hourly schedules in five
   zones, each at a time that does not come round while this runs, so the
   service has nothing due.
2. Idle: the serving process's CPU time over `--idle` seconds.
3. Load: registers 1% more jobs due every minute and one due every second,
   then reads `mentor_scheduler_scheduler_lateness_seconds` (from a
   firing's instant to the insert of its run) from /metrics before and
   after `--seconds` seconds, and prints the firings' count and their
   lateness quantiles as bucket bounds (p99 <= 0.1 means at least 99% of
   firings were claimed within 100 ms).
"""

import argparse
import datetime
import http.client
import json
import os
import random
import time
import zoneinfo

ZONES = ["UTC", "Europe/Oslo", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--pid", type=int, required=True)
parser.add_argument("--jobs", type=int, default=10000)
parser.add_argument("--idle", type=float, default=60)
parser.add_argument("--seconds", type=float, default=60)
args = parser.parse_args()
random.seed(7)

conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)


def call(method, path, body=None):
    """One request on the kept-alive connection, opened again once if the
    server closed it while the bench slept."""
    global conn
    headers = {"content-type": "application/json"} if body is not None else {}
    payload = json.dumps(body) if body is not None else None
    try:
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
    except (OSError, http.client.HTTPException):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return data


def create(name, schedule, zone):
    call("POST", "/api/v1/cron/jobs", {
        "name": name, "schedule": schedule, "timezone": zone,
        "handler": "pause_auto_lift", "enabled": True,
    })


def quiet_time(zone):
    """An hour and minute of `zone` that does not come round in the next
    half hour (the bench takes a few minutes)."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
    while True:
        hour, minute = random.randrange(24), random.randrange(60)
        at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        ahead = (at - now).total_seconds() % 86400
        if ahead > 1800:
            return hour, minute


def quiet_minute():
    now = datetime.datetime.now(datetime.timezone.utc).minute
    while True:
        minute = random.randrange(60)
        if (minute - now) % 60 > 30:
            return minute


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def lateness_buckets():
    text = call("GET", "/metrics").decode()
    buckets = {}
    for line in text.splitlines():
        if line.startswith("mentor_scheduler_scheduler_lateness_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


started = time.time()
hourly = args.jobs // 5
for i in range(args.jobs):
    zone = ZONES[i % len(ZONES)]
    if i < hourly:
        create(f"hourly-{i:05d}", f"{quiet_minute()} * * * *", zone)
    else:
        hour, minute = quiet_time(zone)
        create(f"daily-{i:05d}", f"{minute} {hour} * * *", zone)
print(f"registered {args.jobs} jobs ({hourly} hourly, {args.jobs - hourly} daily, "
      f"{len(ZONES)} zones) in {time.time() - started:.1f} s")

time.sleep(2)
ticks = os.sysconf("SC_CLK_TCK")
before = cpu_ticks(args.pid)
time.sleep(args.idle)
used = (cpu_ticks(args.pid) - before) / ticks
print(f"idle with {args.jobs} jobs: {used:.2f} s CPU in {args.idle:.0f} s "
      f"({100 * used / args.idle:.2f}% of one core)")

per_minute = max(1, args.jobs // 100)
for i in range(per_minute):
    create(f"minutely-{i:05d}", "* * * * *", ZONES[i % len(ZONES)])
create("every-second", "* * * * * *", "UTC")
first = lateness_buckets()
time.sleep(args.seconds)
last = lateness_buckets()
delta = {le: last.get(le, 0) - first.get(le, 0) for le in sorted(last)}
count = delta.get(float("inf"), 0)
if count == 0:
    raise SystemExit("no firing was recorded")


def quantile(q):
    for le, n in delta.items():
        if n >= q * count:
            return le
    return float("inf")


within = delta.get(0.1, 0) / count
print(f"load: {args.jobs + per_minute + 1} jobs ({per_minute} due every minute, "
      f"one every second), {args.seconds:.0f} s: {count:.0f} firings; lateness "
      f"p50 <= {quantile(0.5)} s, p99 <= {quantile(0.99)} s, max <= {quantile(1.0)} s; "
      f"{100 * within:.1f}% within 100 ms")
