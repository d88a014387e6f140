-- The once-only keys and the recorded milestones, which a run writes one
-- row of per notification and per newly seen milestone, as WITHOUT ROWID
-- tables: their key is the table, so each row is one b-tree insert fewer
-- (a rowid table with a TEXT or composite PRIMARY KEY is the table plus
-- an index on that key). Their constraints, as in migration 000007, FAIL
-- instead of ABORT and their foreign keys are checked at COMMIT, so that a
-- multi-row INSERT writes no statement journal.
CREATE TABLE notification_keys_new (
    dedupe_key TEXT PRIMARY KEY NOT NULL ON CONFLICT FAIL,
    user_id TEXT NOT NULL ON CONFLICT FAIL REFERENCES mentors (user_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at BIGINT NOT NULL ON CONFLICT FAIL
) WITHOUT ROWID;
INSERT INTO notification_keys_new (dedupe_key, user_id, created_at)
    SELECT dedupe_key, user_id, created_at FROM notification_keys;
DROP TABLE notification_keys;
ALTER TABLE notification_keys_new RENAME TO notification_keys;
CREATE INDEX notification_keys_user ON notification_keys (user_id);

CREATE TABLE mentor_milestones_new (
    user_id TEXT NOT NULL ON CONFLICT FAIL REFERENCES mentors (user_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    milestone_type TEXT NOT NULL ON CONFLICT FAIL,
    achieved_at BIGINT NOT NULL ON CONFLICT FAIL,
    PRIMARY KEY (user_id, milestone_type)
) WITHOUT ROWID;
INSERT INTO mentor_milestones_new (user_id, milestone_type, achieved_at)
    SELECT user_id, milestone_type, achieved_at FROM mentor_milestones;
DROP TABLE mentor_milestones;
ALTER TABLE mentor_milestones_new RENAME TO mentor_milestones;
