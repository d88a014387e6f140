ALTER TABLE notification_keys ADD CONSTRAINT notification_keys_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES mentors (user_id) ON DELETE CASCADE;
ALTER TABLE notifications ADD CONSTRAINT notifications_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES mentors (user_id) ON DELETE CASCADE;
