ALTER TABLE notifications ADD CONSTRAINT notifications_evaluation_id_fkey
    FOREIGN KEY (evaluation_id) REFERENCES evaluations (id) ON DELETE SET NULL;
ALTER TABLE evaluations ADD CONSTRAINT evaluations_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES mentors (user_id) ON DELETE CASCADE;
