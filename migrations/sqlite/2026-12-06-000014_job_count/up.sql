-- Jobs are counted as the tables of migration 000013 are, so that the job
-- list's `pagination.total` is one read however many jobs there are (up to
-- `--max-jobs`), and the list reads in place like their pages
-- (docs/api.md, "Totals").
INSERT INTO row_counts (name, shard, n) SELECT 'jobs', 0, count(*) FROM jobs;
CREATE TRIGGER jobs_counted_in AFTER INSERT ON jobs
BEGIN UPDATE row_counts SET n = n + 1 WHERE shard = 0 AND name = 'jobs'; END;
CREATE TRIGGER jobs_counted_out AFTER DELETE ON jobs
BEGIN UPDATE row_counts SET n = n - 1 WHERE shard = 0 AND name = 'jobs'; END;
