-- The video's name when the link was made, for the pages of a link that has done its job (used up,
-- expired): they say what was shared without a read of the catalogue. Null for older links.
ALTER TABLE share_links ADD COLUMN title TEXT;
