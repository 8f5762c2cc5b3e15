-- Share links (docs/http-api.md): time-limited, optionally use-limited links to one video's download.
CREATE TABLE share_links (
  id             TEXT    PRIMARY KEY,        -- ≥ 128 random bits, base64url
  creator        TEXT    NOT NULL,           -- the app user who made it
  video_id       TEXT    NOT NULL,
  type           TEXT    NOT NULL CHECK (type IN ('default', 'audio')),
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  max_uses       INTEGER,                    -- NULL: unlimited until expiry
  uses           INTEGER NOT NULL DEFAULT 0,
  countries      TEXT,                       -- JSON array of ISO codes, or NULL
  lock_to_ip     INTEGER NOT NULL DEFAULT 0,
  password_hash  TEXT,                       -- PBKDF2-SHA256 (see src/links/password.ts)
  note           TEXT,
  from_grant     INTEGER NOT NULL DEFAULT 0, -- made under a D1 grant: the creator must still hold it
  revoked_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX share_links_by_creator ON share_links (creator, created_at);
CREATE INDEX share_links_by_video   ON share_links (video_id);
CREATE INDEX share_links_by_expiry  ON share_links (expires_at);
CREATE INDEX audit_by_link ON audit_events (link_id, at);
