-- The downloadable file's size in bytes, as Stream's delivery host answered a HEAD for it (NULL
-- while unknown): the share page shows it. Stream's API reports only the uploaded original's
-- size, which differs from the generated MP4's. size_checked_at: when a request last took the
-- one HEAD (0: never), so that of many page views one asks.
ALTER TABLE download_state ADD COLUMN download_bytes INTEGER;
ALTER TABLE download_state ADD COLUMN size_checked_at INTEGER NOT NULL DEFAULT 0;
