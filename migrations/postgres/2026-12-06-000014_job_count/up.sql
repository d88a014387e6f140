-- Jobs are counted as the tables of migration 000013 are, so that the job
-- list's `pagination.total` is one read however many jobs there are (up to
-- `--max-jobs`), and the list reads in place like their pages
-- (docs/api.md, "Totals").
CREATE TRIGGER jobs_counted_in AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added();
CREATE TRIGGER jobs_counted_out AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed();

-- Counted after the triggers exist: creating them locks the table against
-- writes until this migration commits, so no job is missed or counted twice.
INSERT INTO row_counts (name, shard, n) SELECT 'jobs', 0, count(*) FROM jobs;
