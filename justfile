# Contributor recipes. `cargo install just` to use them; the README's
# commands and .ci/run use plain cargo.

# Build everything.
build:
    cargo build --workspace --all-targets

# The whole test suite (PostgreSQL tests skip with a notice when it is unreachable).
test:
    cargo test --workspace

# The whole test suite, failing if PostgreSQL is unreachable (as CI does).
pg-test:
    CI=true cargo test --workspace

# What CI runs.
ci:
    bash .ci/run

# Lints and formatting.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# The circles of imports between source files (none expected; the test suite checks it too).
cycles:
    python3 tools/import_cycles.py .

# Benchmarks (figures go to docs/benchmarks.md).
bench:
    cargo bench -p scenario-engine
    cargo bench -p storage-diesel --bench batch_run
    bash benches/scenario_run.sh

# Run the service on the default SQLite file ./data/mentor-scheduler.db.
serve:
    cargo run --release -p mentor-scheduler-api --bin mentor-scheduler -- serve

# Run the service with 500 demo mentors seeded into an empty ./data/mentor-scheduler.db.
demo:
    cargo run --release -p mentor-scheduler-api --bin mentor-scheduler -- serve --demo

# Run the service on a local PostgreSQL database.
serve-pg url="postgres://postgres@127.0.0.1:5432/mentor_scheduler":
    DATABASE_URL={{url}} cargo run --release -p mentor-scheduler-api --bin mentor-scheduler -- serve

# Rustdoc of the workspace.
doc:
    cargo doc --workspace --no-deps --open

# schemathesis against the served OpenAPI document (SCHEMATHESIS_MAX_TIME, SCHEMATHESIS_SEED).
schemathesis:
    bash tools/schemathesis.sh

# The dashboard's browser tests: headless Chromium against the real binary (screenshots in target/dashboard-screenshots/).
browser-test:
    bash tools/browser-tests.sh

# Reads through HTTP beside a bare actix server, with wrk (figures go to docs/benchmarks.md).
bench-http:
    bash benches/http.sh

# A run over a million mentors on SQLite, with reads polled during it (figures go to docs/benchmarks.md).
bench-million:
    HOLD_DELIVERY=1 bash benches/scenario_run.sh 100000 1000000
    READS=1 HOLD_DELIVERY=1 bash benches/scenario_run.sh 1000000

# The 100,000-mentor run on a local PostgreSQL (a fresh database per size, dropped afterwards).
bench-pg url="postgres://postgres@127.0.0.1:5432/postgres":
    PG={{url}} HOLD_DELIVERY=1 bash benches/scenario_run.sh 10000 100000

# The scheduler under 10,000 registered jobs: idle CPU and the lateness of every firing.
bench-scheduler:
    bash benches/scheduler_lateness.sh
