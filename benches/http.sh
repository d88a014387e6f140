#!/usr/bin/env bash
# Reads through HTTP, side by side with a bare actix-web server answering a
# constant JSON body (benches/bare), measured with wrk in one run
# (docs/benchmarks.md, "Reads"). Two data sizes: the --demo population,
# and N mentors (default 100,000) after one scenario-evaluation run.
#
#   benches/http.sh                      # both sizes, 3 runs of 4 s per request
#   REPEAT=1 benches/http.sh             # one run per request
#   MENTORS=1000000 benches/http.sh      # another large size
#   DURATION=10s CONNECTIONS=64 benches/http.sh
#   SIZES=demo benches/http.sh           # only the demo population
#
# Prints one line per request: req/s and p99 latency (medians of REPEAT
# runs), and the ratio of its req/s to the bare server's, measured the
# same way just before each size's rows; and the bare server again with a
# constant body as long as each page of 20 evaluations or notifications.
set -euo pipefail
cd "$(dirname "$0")/.."

mentors="${MENTORS:-100000}"
duration="${DURATION:-4s}"
connections="${CONNECTIONS:-64}"
repeat="${REPEAT:-3}"
sizes="${SIZES:-demo large}"

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is missing; installing it from Debian's packages" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y -q wrk >/dev/null; else sudo apt-get install -y -q wrk >/dev/null; fi
fi

cargo build --release --quiet -p mentor-scheduler-api --bin mentor-scheduler
cargo build --release --quiet -p bench-bare
bin="$PWD/target/release/mentor-scheduler"
bare="$PWD/target/release/bench-bare"

dir="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_ready() {
    for _ in $(seq 1 300); do
        curl -sf "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}

# A path as printed: ids (a prefix, `_` and 26 ULID characters) shortened
# to their prefix, so that the query that follows stays readable.
short() { sed -E 's/(run|job|trg|ntf)_[0-9A-Z]{26}/\1_…/g; s/usr_demo_[0-9]+/usr_…/g' <<<"$1"; }

# wrk's "Requests/sec" and its 99th percentile in milliseconds: the
# medians of REPEAT runs (a single 4-second run on a shared 2-core VM
# sometimes catches a stall of tens of milliseconds, which a bare server
# shows as well), and the non-2xx answers of all of them.
measure() {
    for _ in $(seq 1 "$repeat"); do
        wrk -t2 -c"$connections" -d"$duration" --latency "$1" 2>&1 | python3 -c '
import re, sys
text = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {p99:.2f} {errors.group(1) if errors else 0}")
'
    done | python3 -c '
import statistics, sys
runs = [line.split() for line in sys.stdin if line.strip()]
rps = statistics.median(float(r[0]) for r in runs)
p99 = statistics.median(float(r[1]) for r in runs)
print(f"{rps:.0f} {p99:.2f} {sum(int(r[2]) for r in runs)}")
'
}

bare_port=$(free_port)
"$bare" "127.0.0.1:$bare_port" >/dev/null 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$bare_port/"

printf '%-7s %-58s %9s %9s %7s %6s\n' size request req/s p99_ms ratio non2xx
for size in $sizes; do
    db="$dir/$size.db"
    port=$(free_port)
    if [ "$size" = demo ]; then
        "$bin" --database-url "$db" --bind "127.0.0.1:$port" serve --demo >"$dir/$size.log" 2>&1 &
    else
        "$bin" --database-url "$db" demo-data --mentors "$mentors" >/dev/null 2>&1
        "$bin" --database-url "$db" --bind "127.0.0.1:$port" serve >"$dir/$size.log" 2>&1 &
    fi
    pids+=($!)
    base="http://127.0.0.1:$port"
    wait_ready "$base/readyz"
    # One scenario-evaluation run over every active mentor, to its end.
    run=$(curl -sf -X POST "$base/api/v1/scheduler-invocations" -H 'content-type: application/json' \
        -d '{"reason": "benchmark"}' | field "['id']")
    while [ "$(curl -sf "$base/api/v1/scheduler-invocations/$run" | field "['status']")" = running ]; do
        sleep 0.2
    done
    # And its notifications delivered (to the log), so that no delivery
    # writes while the reads are measured.
    for _ in $(seq 1 600); do
        [ "$(curl -sf "$base/api/v1/notifications?status=pending&limit=1" | field "['pagination']['total']")" = 0 ] && break
        sleep 0.5
    done
    job=$(curl -sf "$base/api/v1/cron/jobs?limit=1" | field "['data'][0]['job_id']")
    evaluation=$(curl -sf "$base/api/v1/scenario-trigger-evaluations?limit=1" | field "['data'][0]['id']")
    user=$(curl -sf "$base/api/v1/scenario-trigger-evaluations?limit=1" | field "['data'][0]['user_id']")
    notification=$(curl -sf "$base/api/v1/notifications?limit=1" | field "['data'][0]['id']")
    evaluations=$(curl -sf "$base/api/v1/scenario-trigger-evaluations?limit=1" | field "['pagination']['total']")
    notifications=$(curl -sf "$base/api/v1/notifications?limit=1" | field "['pagination']['total']")
    batches=$(curl -sf "$base/api/v1/scheduler-invocations/$run" | field "['planned_batches']")
    echo "# $size: $evaluations evaluations, $notifications notifications, run $run with $batches batches" >&2

    read -r bare_rps bare_p99 bare_errors < <(measure "http://127.0.0.1:$bare_port/")
    printf '%-7s %-58s %9s %9s %7s %6s\n' "$size" "bare actix constant JSON" "$bare_rps" "$bare_p99" 1.00 "$bare_errors"
    # The same bare server answering a constant body as long as a page of
    # 20 evaluations, then of 20 notifications: how much of a page's
    # distance from bare its length alone makes (loopback TCP, and wrk
    # reading it on the same two cores).
    for list in scenario-trigger-evaluations notifications; do
        bytes=$(curl -sf "$base/api/v1/$list?limit=20" | wc -c)
        long_port=$(free_port)
        "$bare" "127.0.0.1:$long_port" "$bytes" >/dev/null 2>&1 &
        long_pid=$!
        wait_ready "http://127.0.0.1:$long_port/"
        read -r rps p99 errors < <(measure "http://127.0.0.1:$long_port/")
        kill "$long_pid" 2>/dev/null || true
        wait "$long_pid" 2>/dev/null || true
        ratio=$(python3 -c "print(f'{$rps / $bare_rps:.2f}')")
        printf '%-7s %-58s %9s %9s %7s %6s\n' "$size" "bare actix constant JSON, $bytes bytes (a $list page)" "$rps" "$p99" "$ratio" "$errors"
    done
    for path in \
        "/healthz" \
        "/api/v1/cron/jobs/$job" \
        "/api/v1/mentors/$user" \
        "/api/v1/scenario-trigger-evaluations/$evaluation" \
        "/api/v1/notifications/$notification" \
        "/api/v1/cron/jobs?limit=20" \
        "/api/v1/schedules/preview?expression=0%202%20*%20*%20*&count=5" \
        "/api/v1/scenario-trigger-evaluations?limit=20" \
        "/api/v1/scenario-trigger-evaluations?limit=20&user_id=$user" \
        "/api/v1/notifications?limit=20" \
        "/api/v1/scheduler-invocations/$run" \
        "/api/v1/scheduler-invocations/$run?batch_limit=0" \
        "/api/v1/scheduler-invocations/$run?batch_after=$((batches / 2))&batch_limit=100"; do
        read -r rps p99 errors < <(measure "$base$path")
        ratio=$(python3 -c "print(f'{$rps / $bare_rps:.2f}')")
        printf '%-7s %-58s %9s %9s %7s %6s\n' "$size" "GET $(short "$path")" "$rps" "$p99" "$ratio" "$errors"
    done
done
