-- A run writes fewer b-trees per decision (docs/benchmarks.md: each
-- secondary index cost about 1.7 us per row on SQLite).

-- The two boolean filters of the evaluation list are served by partial
-- indexes on their rare value (decisions that fire, dry runs); a filter on
-- the common value walks (evaluated_at, id), where nearly every row
-- matches. scenario_type (three values) is served the same way: a third
-- of the rows match, so a page is read straight off (evaluated_at, id).
DROP INDEX evaluations_should_notify;
DROP INDEX evaluations_dry_run;
DROP INDEX evaluations_scenario;
CREATE INDEX evaluations_notified ON evaluations (evaluated_at, id) WHERE should_notify;
CREATE INDEX evaluations_dry ON evaluations (evaluated_at, id) WHERE dry_run;

-- The per-user results of a run's batches are the batch's evaluations:
-- one per (user, scenario type), found by (run_id, batch_index). They
-- were a second copy in batch_decisions, as many rows again.
ALTER TABLE evaluations ADD COLUMN batch_index BIGINT;
DROP TABLE batch_decisions;

-- A mentor's notifications are few: the cooldown index (user_id, ...)
-- finds them and they are sorted in memory. scenario_type, as above.
DROP INDEX notifications_user_created;
DROP INDEX notifications_scenario_created;
