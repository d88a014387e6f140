DROP TABLE markers;
DROP TABLE batch_results;
DROP TABLE runs;
DROP TABLE jobs;
