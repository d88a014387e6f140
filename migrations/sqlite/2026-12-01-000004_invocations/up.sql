-- Scheduler invocations: the batch plan of a scenario-evaluation run, and the
-- answers kept for Idempotency-Key retries.

-- Batch index to user_id key range, written by the run's one planning pass.
-- A batch is finished when its batch_results row exists.
CREATE TABLE run_batches (
    run_id TEXT NOT NULL,
    batch_index BIGINT NOT NULL,
    first_user_id TEXT NOT NULL,
    last_user_id TEXT NOT NULL,
    user_count BIGINT NOT NULL,
    PRIMARY KEY (run_id, batch_index)
) WITHOUT ROWID;

-- Set when the plan is complete; NULL means plan (again) before any batch.
ALTER TABLE runs ADD COLUMN planned_batches BIGINT;
-- Mentors per planned batch of a run the service processes.
ALTER TABLE runs ADD COLUMN batch_size BIGINT;

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request TEXT NOT NULL,
    status_code INTEGER,
    response TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
-- Retention drops keys past their 24 hours.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
