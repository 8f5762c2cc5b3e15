-- The shop's own tables, as they were before it offered downloads. Times are unix milliseconds.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL           -- src/passwords.ts: pbkdf2-sha256$<iterations>$<salt>$<hash>
);

-- A session is found by the SHA-256 of its cookie, so that a copy of this table signs nobody in.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- What each customer bought: the video's Stream UID and the title the shop sells it under.
CREATE TABLE purchases (
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  video_uid    TEXT NOT NULL,
  title        TEXT NOT NULL,
  purchased_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, video_uid)
);
