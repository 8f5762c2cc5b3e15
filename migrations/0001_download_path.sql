-- The download path's state (docs/design.md). Times are unix milliseconds.

-- Who may download what, managed by the app's backend through the admin API.
CREATE TABLE grants (
  user_id    TEXT    NOT NULL,
  video_id   TEXT    NOT NULL,
  expires_at INTEGER,            -- NULL: never expires
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, video_id)
) WITHOUT ROWID;
CREATE INDEX grants_by_video ON grants (video_id, user_id);

-- The admin kill switch.
CREATE TABLE blocked_videos (
  video_id   TEXT    PRIMARY KEY,
  blocked_at INTEGER NOT NULL,
  reason     TEXT
) WITHOUT ROWID;

-- A cache of Stream's download state: Stream sends no event when a download finishes or is
-- deleted, so a row is trusted for READY_TTL_SECONDS and then revalidated. `polled_at` is the
-- poll lease: one Stream call per video and type per interval, however many users wait.
CREATE TABLE download_state (
  video_id          TEXT    NOT NULL,
  type              TEXT    NOT NULL CHECK (type IN ('default', 'audio')),
  status            TEXT    NOT NULL CHECK (status IN ('pending', 'inprogress', 'ready', 'error')),
  -- While 'pending': why Stream cannot make the download yet (a problem slug), rechecked once
  -- per interval like a poll, so that waiting users do not each ask Stream.
  refusal           TEXT,
  percent           REAL    NOT NULL DEFAULT 0,
  video_name        TEXT,
  checked_at        INTEGER NOT NULL,  -- when Stream last confirmed `status`
  polled_at         INTEGER NOT NULL,  -- lease: the last time a request took the right to call Stream
  polls             INTEGER NOT NULL DEFAULT 0,  -- polls while in progress, for the backoff
  PRIMARY KEY (video_id, type)
) WITHOUT ROWID;

-- One row per granted download.
CREATE TABLE audit_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  user_id    TEXT,
  link_id    TEXT,
  video_id   TEXT    NOT NULL,
  type       TEXT    NOT NULL,
  mode       TEXT    NOT NULL,
  country    TEXT,
  outcome    TEXT    NOT NULL
);
CREATE INDEX audit_by_time  ON audit_events (at);
CREATE INDEX audit_by_user  ON audit_events (user_id, at);
CREATE INDEX audit_by_video ON audit_events (video_id, at);

-- DAILY_DOWNLOAD_QUOTA: downloads per user per UTC day, taken atomically.
CREATE TABLE quota_usage (
  user_id TEXT    NOT NULL,
  day     TEXT    NOT NULL,  -- YYYY-MM-DD (UTC)
  used    INTEGER NOT NULL,
  PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
