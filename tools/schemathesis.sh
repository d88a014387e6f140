#!/usr/bin/env bash
# Checks the served OpenAPI document against the server with schemathesis:
# every check (`--checks all`), the settings and reasoned exclusions of
# tools/schemathesis/schemathesis.toml, against a fresh server on loopback
# with the --demo mentors and an admin token. Exits non-zero on any failure
# or error. docs/api.md, "Checking the document".
#
#   tools/schemathesis.sh                 # 150 s of generated requests
#   SCHEMATHESIS_MAX_TIME=600 SCHEMATHESIS_SEED=7 tools/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

max_time="${SCHEMATHESIS_MAX_TIME:-150}"
venv="target/schemathesis-venv"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$venv/bin/schemathesis" ] || ! cmp -s tools/schemathesis/requirements.txt "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/schemathesis/requirements.txt
    cp tools/schemathesis/requirements.txt "$venv/requirements.txt"
fi

cargo build --quiet -p mentor-scheduler-api --bin mentor-scheduler
token="schemathesis-admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MENTOR_SCHEDULER_ADMIN_TOKENS="$token" target/debug/mentor-scheduler serve \
    --database-url "$work/schemathesis.db" --bind "127.0.0.1:$port" --demo \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
if ! curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then
    echo "the server did not become ready; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

seed_args=()
if [ -n "${SCHEMATHESIS_SEED:-}" ]; then
    seed_args=(--seed "$SCHEMATHESIS_SEED")
fi
SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$PWD/tools/schemathesis" \
    "$venv/bin/schemathesis" --config-file tools/schemathesis/schemathesis.toml --no-color \
    run "http://127.0.0.1:$port/api/v1/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks all --exclude-checks ensure_resource_availability --max-time "$max_time" "${seed_args[@]}"
