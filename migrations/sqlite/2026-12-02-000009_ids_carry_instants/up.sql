-- Ids carry their instant (docs/architecture.md): from now on an
-- evaluation's id is `trg_` plus a ULID whose time is its evaluated_at, and
-- a notification's `ntf_` plus one whose time is its created_at, so for
-- these tables ordering by id is ordering by (instant, id). The lists'
-- order, newest first, is read off the id: the primary key's own index
-- replaces (evaluated_at, id) and (created_at, id), and every filter's
-- index ends in the id alone. A run writes one b-tree fewer per evaluation
-- and per notification, and shorter keys into the others
-- (docs/benchmarks.md). Rows written before this migration sort by their
-- id, which was taken from the wall clock just after their instant.
DROP INDEX evaluations_evaluated;
DROP INDEX evaluations_user;
CREATE INDEX evaluations_user ON evaluations (user_id, id);
DROP INDEX evaluations_run;
CREATE INDEX evaluations_run ON evaluations (run_id, id);
DROP INDEX evaluations_reason_code;
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, id)
    WHERE reason_code <> 'milestone_not_reached' AND reason_code <> 'threshold_not_reached' AND reason_code <> 'no_certification' AND reason_code <> 'expiry_not_within_lead_time';
DROP INDEX evaluations_notified;
CREATE INDEX evaluations_notified ON evaluations (id) WHERE should_notify;
DROP INDEX evaluations_dry;
CREATE INDEX evaluations_dry ON evaluations (id) WHERE dry_run;

DROP INDEX notifications_created;
DROP INDEX notifications_status_created;
CREATE INDEX notifications_status_created ON notifications (status, id);
DROP INDEX notifications_run_created;
CREATE INDEX notifications_run_created ON notifications (run_id, id);
