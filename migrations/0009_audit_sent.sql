-- When the gateway last sent an audit event to its queue, marked at most once a minute per
-- isolate. With audit_progress (the consumer's last batch) it tells a queue nobody consumes: a
-- Worker that exports `fetch` but not the gateway's `queue` handler (docs/operations.md › Wiring).
CREATE TABLE audit_sent (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  sent_at  INTEGER NOT NULL  -- unix ms
);
