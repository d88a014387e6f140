-- Back to the rowid tables and constraints of migration 000001.
CREATE TABLE notification_keys_old (
    dedupe_key TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
INSERT INTO notification_keys_old (dedupe_key, user_id, created_at)
    SELECT dedupe_key, user_id, created_at FROM notification_keys;
DROP TABLE notification_keys;
ALTER TABLE notification_keys_old RENAME TO notification_keys;
CREATE INDEX notification_keys_user ON notification_keys (user_id);

CREATE TABLE mentor_milestones_old (
    user_id TEXT NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    milestone_type TEXT NOT NULL,
    achieved_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, milestone_type)
);
INSERT INTO mentor_milestones_old (user_id, milestone_type, achieved_at)
    SELECT user_id, milestone_type, achieved_at FROM mentor_milestones;
DROP TABLE mentor_milestones;
ALTER TABLE mentor_milestones_old RENAME TO mentor_milestones;
