#!/usr/bin/env bash
# The dashboard's browser tests (tests/browser/dashboard.test.mjs): headless
# Chromium from Debian's packages, driven by playwright-core from npm (pinned
# in tests/browser/package-lock.json), against the real binary on loopback
# with demo data. Screenshots of every view, at desktop width and at 360 px,
# go to target/dashboard-screenshots/. The tests stop the servers they start,
# also when they fail; the whole step is bounded by `timeout`.
# docs/operations.md, "Dashboard".
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium" >&2
    sudo_=""
    if [ "$(id -u)" != 0 ]; then sudo_="sudo"; fi
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi

(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --quiet -p mentor-scheduler-api --bin mentor-scheduler
MENTOR_SCHEDULER_BIN=target/debug/mentor-scheduler \
    timeout --kill-after=10 300 node tests/browser/dashboard.test.mjs
