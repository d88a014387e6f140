CREATE INDEX notifications_scenario_created ON notifications (scenario_type, created_at, id);
CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);
CREATE TABLE batch_decisions (
    run_id TEXT NOT NULL,
    batch_index BIGINT NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    scenario_type TEXT NOT NULL,
    notified BOOLEAN NOT NULL,
    reason_code TEXT NOT NULL,
    PRIMARY KEY (run_id, batch_index, user_id, scenario_type),
    FOREIGN KEY (run_id, batch_index) REFERENCES batch_results (run_id, batch_index) ON DELETE CASCADE
);
CREATE INDEX batch_decisions_user ON batch_decisions (user_id);
ALTER TABLE evaluations DROP COLUMN batch_index;
DROP INDEX evaluations_dry;
DROP INDEX evaluations_notified;
CREATE INDEX evaluations_scenario ON evaluations (scenario_type, evaluated_at, id);
CREATE INDEX evaluations_dry_run ON evaluations (dry_run, evaluated_at, id);
CREATE INDEX evaluations_should_notify ON evaluations (should_notify, evaluated_at, id);
