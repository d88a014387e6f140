DROP TABLE notification_keys;
DROP TABLE notifications;
DROP TABLE evaluations;
DROP TABLE mentor_milestones;
DROP TABLE activity_events;
DROP TABLE certifications;
DROP TABLE mentors;
