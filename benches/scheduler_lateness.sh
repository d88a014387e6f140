#!/usr/bin/env bash
# The scheduler with 10,000 registered jobs (its target and figures are in
# docs/benchmarks.md, "The scheduler under 10,000 jobs"): a fresh SQLite
# database, `mentor-scheduler serve`, then benches/scheduler_lateness.py
# registers the jobs through the API, measures the idle CPU, adds jobs due
# every minute and one due every second, and reads the lateness of every
# firing from /metrics.
#
#   benches/scheduler_lateness.sh                    # 10,000 jobs, 60 s idle, 60 s load
#   JOBS=1000 IDLE=10 SECONDS_LOAD=20 benches/scheduler_lateness.sh
#   PG=postgres://postgres@127.0.0.1:5432/postgres benches/scheduler_lateness.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin mentor-scheduler
bin="$PWD/target/release/mentor-scheduler"
dir="$(mktemp -d)"
db="$dir/bench.db"
if [ -n "${PG:-}" ]; then
    pg_name="bench_jobs_$$"
    psql -q "$PG" -c "CREATE DATABASE $pg_name"
    db="${PG%/*}/$pg_name"
fi
port=$((20000 + RANDOM % 20000))
"$bin" --database-url "$db" --bind "127.0.0.1:$port" serve --max-jobs 20000 >"$dir/serve.log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    if [ -n "${PG:-}" ]; then psql -q "$PG" -c "DROP DATABASE IF EXISTS $pg_name"; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
python3 benches/scheduler_lateness.py --port "$port" --pid "$pid" \
    --jobs "${JOBS:-10000}" --idle "${IDLE:-60}" --seconds "${SECONDS_LOAD:-60}"
