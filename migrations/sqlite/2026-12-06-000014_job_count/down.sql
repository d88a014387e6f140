DROP TRIGGER jobs_counted_in;
DROP TRIGGER jobs_counted_out;
DELETE FROM row_counts WHERE name = 'jobs';
