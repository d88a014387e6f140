-- Mentors, their certifications, activity events and milestones; evaluations
-- and the notification outbox with its never-pruned dedupe keys.
-- Instants are BIGINT milliseconds since the Unix epoch, UTC.
-- user_id columns use the "C" collation: rows are paged and batched in user_id order,
-- which must be bytewise and the same as on SQLite whatever the cluster's locale.
CREATE TABLE mentors (
    user_id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    status TEXT NOT NULL,
    pause_reason TEXT,
    pause_since BIGINT,
    pause_until BIGINT,
    last_active_at BIGINT,
    sessions_count BIGINT NOT NULL,
    first_session_at BIGINT,
    pref_all BOOLEAN NOT NULL,
    pref_inactivity BOOLEAN NOT NULL,
    pref_milestone BOOLEAN NOT NULL,
    pref_certification_expiry BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mentors_org_user ON mentors (org_id, user_id);
CREATE INDEX mentors_status_user ON mentors (status, user_id);

CREATE TABLE certifications (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    certification_id TEXT NOT NULL,
    name TEXT NOT NULL,
    issued_at BIGINT,
    expires_at BIGINT NOT NULL,
    required BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, certification_id)
);
CREATE INDEX certifications_expires_at ON certifications (expires_at);

CREATE TABLE activity_events (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, event_id)
);

CREATE TABLE mentor_milestones (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    milestone_type TEXT NOT NULL,
    achieved_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, milestone_type)
);

CREATE TABLE evaluations (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    scenario_type TEXT NOT NULL,
    should_notify BOOLEAN NOT NULL,
    evaluated_at BIGINT NOT NULL,
    evaluation_metadata TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    run_id TEXT,
    dry_run BOOLEAN NOT NULL
);
CREATE INDEX evaluations_evaluated ON evaluations (evaluated_at, id);
CREATE INDEX evaluations_user ON evaluations (user_id, evaluated_at, id);
CREATE INDEX evaluations_scenario ON evaluations (scenario_type, evaluated_at, id);
CREATE INDEX evaluations_should_notify ON evaluations (should_notify, evaluated_at, id);
CREATE INDEX evaluations_run ON evaluations (run_id, evaluated_at, id);
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, evaluated_at, id);
CREATE INDEX evaluations_dry_run ON evaluations (dry_run, evaluated_at, id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
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
CREATE INDEX notifications_user_scenario ON notifications (user_id, scenario_type, created_at);
CREATE INDEX notifications_status_next ON notifications (status, next_attempt_at);
CREATE INDEX notifications_evaluation ON notifications (evaluation_id);
CREATE INDEX notifications_run ON notifications (run_id);

-- Once-only keys: retention never prunes this table.
CREATE TABLE notification_keys (
    dedupe_key TEXT PRIMARY KEY NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES mentors (user_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_keys_user ON notification_keys (user_id);
