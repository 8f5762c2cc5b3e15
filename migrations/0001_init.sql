-- Placeholder schema marker; the gateway's tables arrive with the download path.
CREATE TABLE IF NOT EXISTS schema_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
