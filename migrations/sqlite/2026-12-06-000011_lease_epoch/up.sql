-- Fencing of run leases (docs/operations.md, "Several instances"): the
-- epoch grows on every takeover, and every write a run makes (a batch's
-- totals, a renewal, the end) matches the epoch its process holds, so a
-- process that lost its run to another writes nothing more to it.
ALTER TABLE runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
