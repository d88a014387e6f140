DROP TRIGGER jobs_counted_in ON jobs;
DROP TRIGGER jobs_counted_out ON jobs;
DELETE FROM row_counts WHERE name = 'jobs';
