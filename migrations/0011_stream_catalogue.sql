-- What the gateway knows of the account's videos (src/ensure/catalogue.ts), learnt from Stream's
-- events, its webhook and the gateway's own look-ups, so that a video known to be ready, or a UID
-- Stream just said it does not know, costs no Stream API call.
CREATE TABLE stream_videos (
  uid              TEXT PRIMARY KEY,
  known            INTEGER NOT NULL,           -- 0: Stream answered that it has no such video
  state            TEXT,
  ready_to_stream  INTEGER NOT NULL DEFAULT 0,
  require_signed   INTEGER NOT NULL DEFAULT 0,
  name             TEXT,
  duration         REAL,
  error_code       TEXT,
  checked_at       INTEGER NOT NULL            -- unix ms: when Stream last said so
);
CREATE INDEX stream_videos_checked ON stream_videos (known, checked_at);

-- Stream's event subscription as the gateway has seen it (src/ensure/stream-events.ts): when a
-- download event last arrived, when one last said that a download finished, and when a safety poll
-- last found a finished download that no event had announced. While download events keep coming
-- and none is missed, a download in progress is not polled but for a slow safety check.
CREATE TABLE stream_events (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  last_event_at  INTEGER NOT NULL,
  completion_at  INTEGER,
  missed_at      INTEGER
);
