ALTER TABLE run_batches DROP COLUMN claim_expires_at;
ALTER TABLE run_batches DROP COLUMN claimed_by;
