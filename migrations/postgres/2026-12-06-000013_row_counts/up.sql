-- The number of rows of each table a list pages through without a filter,
-- kept by triggers in the transaction that adds or removes the rows, so
-- that an unfiltered list's `pagination.total` is one read, whatever the
-- size of the table (docs/api.md, "Totals").
-- A statement's rows are counted once, into one of 16 shards chosen by the
-- server process of the connection, so that instances committing batches
-- at the same moment do not wait for each other's counter row; the total
-- is the sum of the shards.
CREATE TABLE row_counts (
    name TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (name, shard)
);

CREATE FUNCTION row_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (name, shard, n)
    SELECT TG_TABLE_NAME, pg_backend_pid() % 16, count(*) FROM changed HAVING count(*) > 0
    ON CONFLICT (name, shard) DO UPDATE SET n = row_counts.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION row_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (name, shard, n)
    SELECT TG_TABLE_NAME, pg_backend_pid() % 16, -count(*) FROM changed HAVING count(*) > 0
    ON CONFLICT (name, shard) DO UPDATE SET n = row_counts.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER mentors_counted_in AFTER INSERT ON mentors
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added();
CREATE TRIGGER mentors_counted_out AFTER DELETE ON mentors
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed();

CREATE TRIGGER evaluations_counted_in AFTER INSERT ON evaluations
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added();
CREATE TRIGGER evaluations_counted_out AFTER DELETE ON evaluations
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed();

CREATE TRIGGER notifications_counted_in AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added();
CREATE TRIGGER notifications_counted_out AFTER DELETE ON notifications
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed();

CREATE TRIGGER runs_counted_in AFTER INSERT ON runs
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added();
CREATE TRIGGER runs_counted_out AFTER DELETE ON runs
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed();

-- Counted after the triggers exist: creating them locks each table against
-- writes until this migration commits, so no row is missed or counted twice.
INSERT INTO row_counts (name, shard, n) SELECT 'mentors', 0, count(*) FROM mentors;
INSERT INTO row_counts (name, shard, n) SELECT 'evaluations', 0, count(*) FROM evaluations;
INSERT INTO row_counts (name, shard, n) SELECT 'notifications', 0, count(*) FROM notifications;
INSERT INTO row_counts (name, shard, n) SELECT 'runs', 0, count(*) FROM runs;
