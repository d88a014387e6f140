DROP TABLE batch_decisions;
