DROP INDEX evaluations_reason_code;
CREATE INDEX evaluations_reason_code ON evaluations (reason_code, evaluated_at, id);
