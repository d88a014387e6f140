-- The reason_code filter of the evaluation list: the four quiet codes, which
-- a run writes for most mentors, are found by walking (evaluated_at, id)
-- where most rows match; every other code by this partial index. A query
-- must repeat its predicate to use it (storage-diesel, evaluations.rs:
-- QUIET_REASON_CODES). The SQLite migration also drops statement journals;
-- PostgreSQL has none.
DROP INDEX evaluations_reason_code;
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, evaluated_at, id)
    WHERE reason_code <> 'milestone_not_reached' AND reason_code <> 'threshold_not_reached' AND reason_code <> 'no_certification' AND reason_code <> 'expiry_not_within_lead_time';
