DROP TABLE idempotency_keys;
ALTER TABLE runs DROP COLUMN batch_size;
ALTER TABLE runs DROP COLUMN planned_batches;
DROP TABLE run_batches;
