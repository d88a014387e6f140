-- The number of rows of each table a list pages through without a filter,
-- kept by triggers in the transaction that adds or removes the rows, so
-- that an unfiltered list's `pagination.total` is one read, whatever the
-- size of the table (docs/api.md, "Totals").
-- One writer at a time: one shard per table (PostgreSQL has 16).
CREATE TABLE row_counts (
    name TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (name, shard)
) WITHOUT ROWID;
INSERT INTO row_counts (name, shard, n) SELECT 'mentors', 0, count(*) FROM mentors;
INSERT INTO row_counts (name, shard, n) SELECT 'evaluations', 0, count(*) FROM evaluations;
INSERT INTO row_counts (name, shard, n) SELECT 'notifications', 0, count(*) FROM notifications;
INSERT INTO row_counts (name, shard, n) SELECT 'runs', 0, count(*) FROM runs;
CREATE TRIGGER mentors_counted_in AFTER INSERT ON mentors
BEGIN UPDATE row_counts SET n = n + 1 WHERE shard = 0 AND name = 'mentors'; END;
CREATE TRIGGER mentors_counted_out AFTER DELETE ON mentors
BEGIN UPDATE row_counts SET n = n - 1 WHERE shard = 0 AND name = 'mentors'; END;
CREATE TRIGGER evaluations_counted_in AFTER INSERT ON evaluations
BEGIN UPDATE row_counts SET n = n + 1 WHERE shard = 0 AND name = 'evaluations'; END;
CREATE TRIGGER evaluations_counted_out AFTER DELETE ON evaluations
BEGIN UPDATE row_counts SET n = n - 1 WHERE shard = 0 AND name = 'evaluations'; END;
CREATE TRIGGER notifications_counted_in AFTER INSERT ON notifications
BEGIN UPDATE row_counts SET n = n + 1 WHERE shard = 0 AND name = 'notifications'; END;
CREATE TRIGGER notifications_counted_out AFTER DELETE ON notifications
BEGIN UPDATE row_counts SET n = n - 1 WHERE shard = 0 AND name = 'notifications'; END;
CREATE TRIGGER runs_counted_in AFTER INSERT ON runs
BEGIN UPDATE row_counts SET n = n + 1 WHERE shard = 0 AND name = 'runs'; END;
CREATE TRIGGER runs_counted_out AFTER DELETE ON runs
BEGIN UPDATE row_counts SET n = n - 1 WHERE shard = 0 AND name = 'runs'; END;
