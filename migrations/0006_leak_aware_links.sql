-- Leak-aware share links (docs/http-api.md › Share links): a link used from more networks or
-- countries than its owner allowed within SHARE_LINK_LEAK_WINDOW is suspended until its owner
-- reinstates it. Counted from the audit trail, which now keeps each grant's coarse network.
ALTER TABLE audit_events ADD COLUMN network TEXT;          -- IPv4 /24 or IPv6 /48 of the requester; NULL when unknown
ALTER TABLE share_links ADD COLUMN max_networks INTEGER;   -- NULL: no limit
ALTER TABLE share_links ADD COLUMN max_countries INTEGER;  -- NULL: no limit
ALTER TABLE share_links ADD COLUMN suspended_at INTEGER;   -- unix ms; NULL while not suspended
ALTER TABLE share_links ADD COLUMN suspended_networks INTEGER;  -- what the window held when it was suspended
ALTER TABLE share_links ADD COLUMN suspended_countries INTEGER;
ALTER TABLE share_links ADD COLUMN reinstated_at INTEGER;  -- uses before this no longer count
