-- Share links get a public id (src/share-links/ids.ts): a digest of the secret in the link's URL,
-- which names the link in the owner API, events, logs and the audit trail. The link's live state
-- (uses, leak window, grants) moves into its Durable Object (ShareLink). A new link's row is keyed
-- by a third digest that nothing shows, and an older link's row is re-keyed when it moves, so that
-- code from before this release, which looks a row up by the URL's value, refuses it: no use is
-- spent twice while both versions run. Additive: the old columns keep their meaning for the index.
ALTER TABLE share_links ADD COLUMN public_id TEXT;  -- NULL until an older link moves
ALTER TABLE share_links ADD COLUMN secret TEXT;     -- the URL's value, for the owner's list
CREATE UNIQUE INDEX share_links_by_public_id ON share_links (public_id);
-- How a link's grants reach the file: 'gateway' (its /d/ URL, counted and revocable) or
-- 'redirect' (Stream's URL, neither); NULL for older links, delivered through the gateway.
ALTER TABLE share_links ADD COLUMN delivery TEXT CHECK (delivery IN ('gateway', 'redirect'));
