-- A run's multi-row INSERTs into evaluations and notifications no longer
-- write a statement journal, and the reason_code index leaves out the
-- four quiet codes (docs/benchmarks.md: a run over 100,000 mentors).
--
-- SQLite opens a statement journal (a copy of every page a statement
-- touches, to undo just that statement) for a statement that writes several
-- rows and may abort halfway: any NOT NULL, PRIMARY KEY or UNIQUE
-- constraint that ABORTs, or an immediate foreign key. Here those
-- constraints FAIL instead (a failing statement keeps the rows it wrote
-- before; every writer here rolls the whole transaction back on any
-- error, so nothing half-written is ever committed), and the foreign keys
-- are checked at COMMIT (DEFERRABLE INITIALLY DEFERRED; ON DELETE actions
-- still run at once). The tables are rebuilt to change their constraints,
-- their rows kept.
--
-- The reason_code filter of the evaluation list: the quiet codes, which a
-- run writes for most mentors, are found by walking (evaluated_at, id)
-- where most rows match; every other code by this partial index. A query
-- must repeat its predicate to use it (storage-diesel, evaluations.rs:
-- QUIET_REASON_CODES).
CREATE TABLE evaluations_new (
    id TEXT PRIMARY KEY ON CONFLICT FAIL NOT NULL ON CONFLICT FAIL,
    user_id TEXT NOT NULL ON CONFLICT FAIL REFERENCES mentors (user_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    scenario_type TEXT NOT NULL ON CONFLICT FAIL,
    should_notify BOOLEAN NOT NULL ON CONFLICT FAIL,
    evaluated_at BIGINT NOT NULL ON CONFLICT FAIL,
    evaluation_metadata TEXT NOT NULL ON CONFLICT FAIL,
    reason TEXT NOT NULL ON CONFLICT FAIL,
    reason_code TEXT NOT NULL ON CONFLICT FAIL,
    run_id TEXT,
    dry_run BOOLEAN NOT NULL ON CONFLICT FAIL,
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
    id TEXT PRIMARY KEY ON CONFLICT FAIL NOT NULL ON CONFLICT FAIL,
    user_id TEXT NOT NULL ON CONFLICT FAIL REFERENCES mentors (user_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    org_id TEXT NOT NULL ON CONFLICT FAIL,
    scenario_type TEXT NOT NULL ON CONFLICT FAIL,
    dedupe_key TEXT NOT NULL ON CONFLICT FAIL UNIQUE ON CONFLICT FAIL,
    payload TEXT NOT NULL ON CONFLICT FAIL,
    status TEXT NOT NULL ON CONFLICT FAIL,
    attempts INTEGER NOT NULL ON CONFLICT FAIL,
    last_error TEXT,
    created_at BIGINT NOT NULL ON CONFLICT FAIL,
    updated_at BIGINT NOT NULL ON CONFLICT FAIL,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    run_id TEXT,
    evaluation_id TEXT REFERENCES evaluations (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO notifications (id, user_id, org_id, scenario_type, dedupe_key, payload, status, attempts, last_error, created_at, updated_at, next_attempt_at, delivered_at, run_id, evaluation_id)
    SELECT id, user_id, org_id, scenario_type, dedupe_key, payload, status, attempts, last_error, created_at, updated_at, next_attempt_at, delivered_at, run_id, evaluation_id FROM notifications_keep;
DROP TABLE notifications_keep;
CREATE INDEX evaluations_evaluated ON evaluations (evaluated_at, id);
CREATE INDEX evaluations_user ON evaluations (user_id, evaluated_at, id);
CREATE INDEX evaluations_run ON evaluations (run_id, evaluated_at, id);
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, evaluated_at, id)
    WHERE reason_code <> 'milestone_not_reached' AND reason_code <> 'threshold_not_reached' AND reason_code <> 'no_certification' AND reason_code <> 'expiry_not_within_lead_time';
CREATE INDEX evaluations_notified ON evaluations (evaluated_at, id) WHERE should_notify;
CREATE INDEX evaluations_dry ON evaluations (evaluated_at, id) WHERE dry_run;
CREATE INDEX notifications_user_scenario ON notifications (user_id, scenario_type, created_at);
CREATE INDEX notifications_evaluation ON notifications (evaluation_id);
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_status_created ON notifications (status, created_at, id);
CREATE INDEX notifications_run_created ON notifications (run_id, created_at, id);
CREATE INDEX notifications_status_due ON notifications (status, next_attempt_at, id);
