-- The same as 000015 for a notification's mentor and a dedupe key's
-- mentor: a batch holds its mentors before it takes keys or enqueues, and
-- erasing a mentor deletes their keys and notifications after the
-- mentor's row (docs/architecture.md, "Links kept by the writers").
-- SQLite keeps both keys.
ALTER TABLE notifications DROP CONSTRAINT notifications_user_id_fkey;
ALTER TABLE notification_keys DROP CONSTRAINT notification_keys_user_id_fkey;
