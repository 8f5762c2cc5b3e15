-- Launch day (docs/design.md › Scale): audit events reach D1 through a queue, and the daily quota
-- lives in a Durable Object per user.

-- Each event carries the id its request gave it: the queue delivers at least once, and a batch
-- written again must not write a row twice. Rows from before this migration have none (SQLite
-- lets a UNIQUE index hold any number of NULLs).
ALTER TABLE audit_events ADD COLUMN event_id TEXT;
CREATE UNIQUE INDEX audit_by_event ON audit_events (event_id);

-- How fresh the audit trail is: the last batch the consumer wrote, and how long its oldest event
-- had waited in the queue. One row.
CREATE TABLE audit_progress (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  written_at  INTEGER NOT NULL,  -- unix ms
  waited_ms   INTEGER NOT NULL   -- the oldest event of that batch: written_at minus when it was sent
);

-- The daily quota moved to the UserQuota Durable Object (src/record/quota-object.ts). quota_usage
-- stays for now: `npm run deploy` applies migrations before the new Worker is live, and the
-- Worker still serving until then (or one rolled back to) reads and writes it. A later release
-- drops it.
