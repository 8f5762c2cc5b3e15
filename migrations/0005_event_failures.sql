-- Events for the app (EVENTS_URL) whose delivery finally failed (src/events/delivery.ts): kept
-- for the admin API to list and send again; the daily cron drops those past AUDIT_RETENTION_DAYS.
CREATE TABLE event_failures (
  event_id   TEXT    PRIMARY KEY,
  type       TEXT    NOT NULL,
  event      TEXT    NOT NULL,  -- the event as queued (JSON)
  attempts   INTEGER NOT NULL,
  last_error TEXT    NOT NULL,
  failed_at  INTEGER NOT NULL   -- unix ms
) WITHOUT ROWID;
CREATE INDEX event_failures_by_time ON event_failures (failed_at);
