-- The notifications list (GET /api/v1/notifications): newest first,
-- (created_at, id) descending, with one index per filter, each ending in
-- that order so that a page is read straight off the index.
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);
CREATE INDEX notifications_scenario_created ON notifications (scenario_type, created_at, id);
CREATE INDEX notifications_status_created ON notifications (status, created_at, id);
-- Replaces notifications_run (run_id): the same prefix, plus the order.
CREATE INDEX notifications_run_created ON notifications (run_id, created_at, id);
DROP INDEX notifications_run;
-- The delivery worker's claim takes due rows in (next_attempt_at, id)
-- order. A run enqueues a whole batch at one instant, so without the id
-- every claim would sort all of them; the worker's next wake-up (the
-- earliest pending next_attempt_at) reads the same index.
-- Replaces notifications_status_next (status, next_attempt_at).
CREATE INDEX notifications_status_due ON notifications (status, next_attempt_at, id);
DROP INDEX notifications_status_next;
