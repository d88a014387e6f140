#!/usr/bin/env bash
# The figures of docs/operations.md, "Several instances": run time of one
# scenario-evaluation run with 1, 2 and 3 instances on one PostgreSQL, and
# the time until another instance takes a run over after its instance gets
# SIGKILL and SIGTERM.
#
#   tools/scale_out_figures.sh [MENTORS]   (default 200000)
#
# PARTS (default "runs takeover") selects the measurements.
# BIN (default target/release/mentor-scheduler) and ADMIN_URL (default
# postgres://postgres@127.0.0.1:5432/postgres) may be set. Each measurement
# gets a database of its own, copied from one seeded database; all are
# dropped at the end, and every instance started is killed by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."

MENTORS="${1:-200000}"
BIN="${BIN:-target/release/mentor-scheduler}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASE_URL="${ADMIN_URL%/*}"
PARTS="${PARTS:-runs takeover}"
PREFIX="ms_fig_$$"
WORK="$(mktemp -d)"
PIDS=()
DBS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for db in "${DBS[@]}"; do psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
sql() { psql -qtA "$BASE_URL/$1" -c "$2"; }

new_db() { # new_db NAME [TEMPLATE]
    psql -q "$ADMIN_URL" -c "CREATE DATABASE $1${2:+ TEMPLATE $2}" >/dev/null
    DBS+=("$1")
}

# start NAME DB PORT [ARGS...]: an instance in the background; waits for /readyz.
start() {
    local name=$1 db=$2 port=$3
    shift 3
    DATABASE_URL="$BASE_URL/$db" RUST_LOG=info "$BIN" --bind "127.0.0.1:$port" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$name=$!"
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
        sleep 0.1
    done
    echo "instance $name never became ready" >&2
    exit 1
}

invoke() { # invoke PORT: starts a run, prints its id
    curl -sf -X POST "http://127.0.0.1:$1/api/v1/scheduler-invocations" -H 'content-type: application/json' -d '{}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

wait_until() { # wait_until DB SQL: polls every 50 ms until SQL prints t
    for _ in $(seq 1 12000); do
        [ "$(sql "$1" "$2")" = "t" ] && return 0
        sleep 0.05
    done
    echo "gave up waiting for: $2" >&2
    exit 1
}

echo "machine: $(nproc) cores, $(uname -sm); $(date -u +%Y-%m-%d)"
echo "binary: $BIN; mentors: $MENTORS"
new_db "${PREFIX}_seed"
DATABASE_URL="$BASE_URL/${PREFIX}_seed" "$BIN" migrate >/dev/null 2>&1
DATABASE_URL="$BASE_URL/${PREFIX}_seed" "$BIN" demo-data --mentors "$MENTORS" 2>/dev/null

stop() { # stop PID...: kills and reaps
    for pid in "$@"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

for n in $([[ $PARTS == *runs* ]] && echo 1 2 3); do
    db="${PREFIX}_run$n"
    new_db "$db" "${PREFIX}_seed"
    for i in $(seq 1 "$n"); do start "i$i" "$db" $((18600 + i)); done
    t0=$(now)
    id=$(invoke 18601)
    wait_until "$db" "SELECT status <> 'running' FROM runs WHERE id = '$id'"
    t1=$(now)
    read -r status ms users sent batches <<<"$(sql "$db" "SELECT status, duration_ms, users_evaluated, notifications_dispatched, planned_batches FROM runs WHERE id = '$id'" | tr '|' ' ')"
    echo "run with $n instance(s): $status, duration_ms $ms (wall $(elapsed "$t0" "$t1") s), users $users, notifications $sent, batches $batches"
    for i in $(seq 1 "$n"); do eval "stop \$PID_i$i"; done
    sleep 0.5
done

for sig in $([[ $PARTS == *takeover* ]] && echo KILL TERM); do
    db="${PREFIX}_take_${sig,,}"
    new_db "$db" "${PREFIX}_seed"
    start a "$db" 18611
    start b "$db" 18612
    id=$(invoke 18611)
    wait_until "$db" "SELECT EXISTS (SELECT 1 FROM batch_results WHERE run_id = '$id')"
    t0=$(now)
    kill -"$sig" "$PID_a"
    wait "$PID_a" 2>/dev/null || true
    t1=$(now)
    wait_until "$db" "SELECT lease_epoch > 0 OR status <> 'running' FROM runs WHERE id = '$id'"
    t2=$(now)
    taken=$(sql "$db" "SELECT lease_epoch FROM runs WHERE id = '$id'")
    wait_until "$db" "SELECT status <> 'running' FROM runs WHERE id = '$id'"
    echo "SIG$sig during a run: the instance exited after $(elapsed "$t0" "$t1") s; the run was taken over (epoch $taken) after $(elapsed "$t0" "$t2") s; run $(sql "$db" "SELECT status FROM runs WHERE id = '$id'")"
    stop "$PID_b"
    sleep 0.5
done
