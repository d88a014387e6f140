CREATE INDEX notifications_status_next ON notifications (status, next_attempt_at);
DROP INDEX notifications_status_due;
CREATE INDEX notifications_run ON notifications (run_id);
DROP INDEX notifications_run_created;
DROP INDEX notifications_status_created;
DROP INDEX notifications_scenario_created;
DROP INDEX notifications_user_created;
DROP INDEX notifications_created;
