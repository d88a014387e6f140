-- Back to the constraints of migrations 000001-000006.
CREATE TABLE evaluations_new (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    scenario_type TEXT NOT NULL,
    should_notify BOOLEAN NOT NULL,
    evaluated_at BIGINT NOT NULL,
    evaluation_metadata TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    run_id TEXT,
    dry_run BOOLEAN NOT NULL,
    batch_index BIGINT
);
INSERT INTO evaluations_new (id, user_id, scenario_type, should_notify, evaluated_at, evaluation_metadata, reason, reason_code, run_id, dry_run, batch_index)
    SELECT id, user_id, scenario_type, should_notify, evaluated_at, evaluation_metadata, reason, reason_code, run_id, dry_run, batch_index FROM evaluations;
-- A copy without constraints: dropping evaluations while the outbox still
-- referenced it would set every notification's evaluation_id to NULL.
CREATE TABLE notifications_keep AS SELECT id, user_id, org_id, scenario_type, dedupe_key, payload, status, attempts, last_error, created_at, updated_at, next_attempt_at, delivered_at, run_id, evaluation_id FROM notifications;
DROP TABLE notifications;
DROP TABLE evaluations;
ALTER TABLE evaluations_new RENAME TO evaluations;
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    scenario_type TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    run_id TEXT,
    evaluation_id TEXT REFERENCES evaluations (id) ON DELETE SET NULL
);
INSERT INTO notifications (id, user_id, org_id, scenario_type, dedupe_key, payload, status, attempts, last_error, created_at, updated_at, next_attempt_at, delivered_at, run_id, evaluation_id)
    SELECT id, user_id, org_id, scenario_type, dedupe_key, payload, status, attempts, last_error, created_at, updated_at, next_attempt_at, delivered_at, run_id, evaluation_id FROM notifications_keep;
DROP TABLE notifications_keep;
CREATE INDEX evaluations_evaluated ON evaluations (evaluated_at, id);
CREATE INDEX evaluations_user ON evaluations (user_id, evaluated_at, id);
CREATE INDEX evaluations_run ON evaluations (run_id, evaluated_at, id);
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, evaluated_at, id);
CREATE INDEX evaluations_notified ON evaluations (evaluated_at, id) WHERE should_notify;
CREATE INDEX evaluations_dry ON evaluations (evaluated_at, id) WHERE dry_run;
CREATE INDEX notifications_user_scenario ON notifications (user_id, scenario_type, created_at);
CREATE INDEX notifications_evaluation ON notifications (evaluation_id);
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_status_created ON notifications (status, created_at, id);
CREATE INDEX notifications_run_created ON notifications (run_id, created_at, id);
CREATE INDEX notifications_status_due ON notifications (status, next_attempt_at, id);
