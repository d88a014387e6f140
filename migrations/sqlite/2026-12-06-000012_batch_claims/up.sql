-- Batches of one run shared by several instances (docs/operations.md,
-- "Several instances"): an instance claims planned batches before it
-- evaluates them; a claim lapses at `claim_expires_at`, so the batches of
-- an instance that died are claimed again. `claimed_by` stays after the
-- batch commits: it names the instance that committed it.
ALTER TABLE run_batches ADD COLUMN claimed_by TEXT;
ALTER TABLE run_batches ADD COLUMN claim_expires_at BIGINT;
