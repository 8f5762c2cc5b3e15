-- The video's length, from Stream's video details (seconds; NULL while unknown): the share page shows it.
ALTER TABLE download_state ADD COLUMN video_duration REAL;
