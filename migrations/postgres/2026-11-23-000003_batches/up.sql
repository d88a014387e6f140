-- The outcome of each (mentor, scenario type) of a scenario-evaluation run's
-- batches. A row goes with its mentor (erasure) and with its batch result
-- (deleting or pruning a run).
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
-- Erasing a mentor finds their rows.
CREATE INDEX batch_decisions_user ON batch_decisions (user_id);
