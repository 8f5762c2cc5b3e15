-- IP-locked grants (docs/design.md › IP lock): a grant's ticket is bound to the network of the request
-- that was granted; the first request for it from the other address family pins that family's
-- network here, so a browser that reaches the gateway over IPv6 and then IPv4 is not locked out.
CREATE TABLE ticket_pins (
  ticket_id  TEXT    PRIMARY KEY,
  network    TEXT    NOT NULL,
  expires_at INTEGER NOT NULL   -- unix ms: the ticket's own expiry; the cron deletes past ones
) WITHOUT ROWID;
CREATE INDEX ticket_pins_by_expiry ON ticket_pins (expires_at);
