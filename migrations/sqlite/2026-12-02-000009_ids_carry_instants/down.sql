-- Back to the (instant, id) indexes of migrations 000005-000007.
CREATE INDEX evaluations_evaluated ON evaluations (evaluated_at, id);
DROP INDEX evaluations_user;
CREATE INDEX evaluations_user ON evaluations (user_id, evaluated_at, id);
DROP INDEX evaluations_run;
CREATE INDEX evaluations_run ON evaluations (run_id, evaluated_at, id);
DROP INDEX evaluations_reason_code;
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, evaluated_at, id)
    WHERE reason_code <> 'milestone_not_reached' AND reason_code <> 'threshold_not_reached' AND reason_code <> 'no_certification' AND reason_code <> 'expiry_not_within_lead_time';
DROP INDEX evaluations_notified;
CREATE INDEX evaluations_notified ON evaluations (evaluated_at, id) WHERE should_notify;
DROP INDEX evaluations_dry;
CREATE INDEX evaluations_dry ON evaluations (evaluated_at, id) WHERE dry_run;

CREATE INDEX notifications_created ON notifications (created_at, id);
DROP INDEX notifications_status_created;
CREATE INDEX notifications_status_created ON notifications (status, created_at, id);
DROP INDEX notifications_run_created;
CREATE INDEX notifications_run_created ON notifications (run_id, created_at, id);
