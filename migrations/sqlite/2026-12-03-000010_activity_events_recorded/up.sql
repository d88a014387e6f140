-- Retention prunes activity events by when they were recorded, in chunks
-- (docs/runs.md, "Retention"): each chunk reads the oldest off this index
-- instead of walking the table.
CREATE INDEX activity_events_recorded ON activity_events (recorded_at);
