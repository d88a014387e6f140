DROP INDEX activity_events_recorded;
