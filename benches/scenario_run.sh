#!/usr/bin/env bash
# A whole scenario-evaluation run through the real binary (its target and
# figures are in docs/benchmarks.md, "Scenario-evaluation run on SQLite"):
# `mentor-scheduler demo-data --mentors N` into a fresh SQLite
# database, then `serve`, one POST /api/v1/scheduler-invocations over every
# active mentor, and the run's own figures once it finishes, with the peak
# memory of the serving process.
#
#   benches/scenario_run.sh                 # 10,000 and 100,000 mentors
#   benches/scenario_run.sh 100000 1000000  # any sizes
#   BATCH_SIZE=500 benches/scenario_run.sh  # another batch size (default 50)
#   HOLD_DELIVERY=1 benches/scenario_run.sh # keep the notification worker idle
#                                           # during the run (a closed delivery window)
#   PG=postgres://postgres@127.0.0.1:5432/postgres benches/scenario_run.sh
#                                           # on PostgreSQL: a fresh database per size
#                                           # on that server, dropped afterwards
#   READS=1 benches/scenario_run.sh         # poll reads during the run, as a dashboard
#                                           # would (benches/poll_reads.py), and print
#                                           # their latencies under the run's line
#
# steal_s: CPU time the hypervisor gave to others while the run ran (the
# `steal` column of /proc/stat, both cores); a run with much of it ran on
# less than two cores.
#
# The figures go into docs/benchmarks.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
batch_size="${BATCH_SIZE:-50}"

cargo build --release --quiet --bin mentor-scheduler
bin="$PWD/target/release/mentor-scheduler"

field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

steal() { awk '/^cpu / {print $9}' /proc/stat; }
ticks=$(getconf CLK_TCK)

printf '%9s %6s %8s %10s %14s %11s %11s %12s %12s %8s\n' \
    mentors batch batches evaluated notifications run_ms per_s rss_MiB peak_MiB steal_s
for n in "${sizes[@]}"; do
    dir="$(mktemp -d)"
    db="$dir/bench.db"
    if [ -n "${PG:-}" ]; then
        pg_name="bench_run_$$_$n"
        psql -q "$PG" -c "DROP DATABASE IF EXISTS $pg_name" -c "CREATE DATABASE $pg_name"
        db="${PG%/*}/$pg_name"
    fi
    "$bin" --database-url "$db" demo-data --mentors "$n" >/dev/null 2>&1
    # The data on disk before the run: the kernel's writeback of what
    # demo-data wrote must not land inside the run it measures.
    sync
    port=$((20000 + RANDOM % 20000))
    env_args=()
    if [ -n "${HOLD_DELIVERY:-}" ]; then
        # A one-minute window twelve hours away: nothing is delivered during the run.
        h=$(( ($(date -u +%-H) + 12) % 24 ))
        env_args=(MENTOR_SCHEDULER_DELIVERY_WINDOW="$(printf '%02d:00-%02d:01' "$h" "$h")")
    fi
    env "${env_args[@]}" "$bin" --database-url "$db" --bind "127.0.0.1:$port" serve >"$dir/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    # Peak RSS from here on (Linux: writing 5 resets VmHWM to the current RSS).
    echo 5 > "/proc/$pid/clear_refs"
    steal_before=$(steal)
    id=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/scheduler-invocations" \
        -H 'content-type: application/json' \
        -d "{\"reason\": \"benchmark\", \"batch_size\": $batch_size}" | field "['id']")
    reads_pid=
    if [ -n "${READS:-}" ]; then
        python3 benches/poll_reads.py --port "$port" --every 0.05 \
            "/api/v1/scenario-trigger-evaluations?limit=20" \
            "/api/v1/notifications?limit=20" \
            "/api/v1/scheduler-invocations/$id?batch_limit=100" \
            "/api/v1/scheduler-invocations/$id" >"$dir/reads.txt" &
        reads_pid=$!
    fi
    while :; do
        # Without its batch results: a poll must not cost what it measures.
        run=$(curl -sf "http://127.0.0.1:$port/api/v1/scheduler-invocations/$id?batch_limit=0")
        # Matched in the shell: a Python per poll would take a share of
        # the two cores from the run it times.
        [[ "$run" == *'"status":"running"'* ]] || break
        sleep 0.05
    done
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    if [ -n "$reads_pid" ]; then
        kill -INT "$reads_pid"; wait "$reads_pid" || true
    fi
    steal_after=$(steal)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    status=$(echo "$run" | field "['status']")
    [ "$status" = success ] || { echo "run $id ended $status: $run" >&2; exit 1; }
    ms=$(echo "$run" | field "['duration_ms']")
    users=$(echo "$run" | field "['users_evaluated']")
    printf '%9s %6s %8s %10s %14s %11s %11.0f %12.1f %12.1f %8.2f\n' "$n" "$batch_size" \
        "$(echo "$run" | field "['planned_batches']")" "$users" \
        "$(echo "$run" | field "['notifications_dispatched']")" "$ms" \
        "$(python3 -c "print($users * 1000 / max($ms, 1))")" \
        "$(python3 -c "print($rss_before / 1024)")" "$(python3 -c "print($peak / 1024)")" \
        "$(python3 -c "print(($steal_after - $steal_before) / $ticks)")"
    [ -n "$reads_pid" ] && cat "$dir/reads.txt"
    rm -rf "$dir"
    if [ -n "${PG:-}" ]; then
        psql -q "$PG" -c "DROP DATABASE $pg_name"
    fi
done
