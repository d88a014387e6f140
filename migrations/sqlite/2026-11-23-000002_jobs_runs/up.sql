-- The job registry, the run log, batch results and one-time markers.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    cron_expression TEXT NOT NULL,
    timezone TEXT NOT NULL,
    handler TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    params TEXT NOT NULL,
    misfire_deadline_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_run_at BIGINT,
    last_run_at BIGINT,
    last_run_status TEXT,
    last_run_id TEXT
);
-- The scheduler loop's next wake-up and due jobs.
CREATE INDEX jobs_enabled_next ON jobs (enabled, next_run_at);
CREATE INDEX jobs_handler_created ON jobs (handler, created_at, id);
CREATE INDEX jobs_created ON jobs (created_at, id);

-- No foreign key to jobs: a run outlives its job.
CREATE TABLE runs (
    id TEXT PRIMARY KEY NOT NULL,
    job_id TEXT,
    job_name TEXT,
    kind TEXT NOT NULL,
    run_trigger TEXT NOT NULL,
    triggered_by TEXT,
    reason TEXT,
    scheduled_for BIGINT,
    dry_run BOOLEAN NOT NULL,
    external BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    invoked_at BIGINT NOT NULL,
    completed_at BIGINT,
    duration_ms BIGINT,
    users_evaluated BIGINT NOT NULL,
    notifications_dispatched BIGINT NOT NULL,
    result_summary TEXT,
    error_message TEXT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    lock_key TEXT
);
-- Each scheduled instant of a job fires once, across instances.
CREATE UNIQUE INDEX runs_job_instant ON runs (job_id, scheduled_for);
-- One running run per lock (a job, or all scenario-evaluation runs).
CREATE UNIQUE INDEX runs_one_running ON runs (lock_key) WHERE status = 'running';
CREATE INDEX runs_invoked ON runs (invoked_at, id);
CREATE INDEX runs_job_invoked ON runs (job_id, invoked_at, id);
CREATE INDEX runs_kind_invoked ON runs (kind, invoked_at, id);
CREATE INDEX runs_status_lease ON runs (status, lease_expires_at);

CREATE TABLE batch_results (
    run_id TEXT NOT NULL,
    batch_index BIGINT NOT NULL,
    user_count BIGINT NOT NULL,
    notifications_sent BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (run_id, batch_index)
);

CREATE TABLE markers (
    name TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
