-- PostgreSQL checks a foreign key with a query of its own for every row
-- inserted: a fifth of the server's work in a scenario run, where each
-- mentor adds three evaluations. The writers keep these two links instead
-- (docs/architecture.md, "Links kept by the writers"):
-- * an evaluation's mentor: a batch (or a single evaluation) takes a
--   key-share lock on its mentors in one statement and fails when one is
--   gone; erasing a mentor deletes their evaluations in the same
--   transaction, after the mentor's row, so it waits for any writer
--   holding that lock and then sees its rows;
-- * a notification's evaluation: deleting evaluations first unlinks the
--   notifications that name them (SET NULL, as the key did).
-- SQLite keeps both keys: it checks them at no comparable cost.
ALTER TABLE evaluations DROP CONSTRAINT evaluations_user_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT notifications_evaluation_id_fkey;
