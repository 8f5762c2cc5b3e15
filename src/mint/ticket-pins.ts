// An IP-locked grant's ticket and the networks it admits: the one its grant came from, and the
// first of the other address family within PIN_WINDOW_SECONDS, pinned in D1 (ticket_pins).
import { clientNetwork } from "../http/networks";
import type { Db } from "../storage/d1";
import type { Ticket } from "./ticket";

/** The network pinned as the ticket's second one, or null. */
async function pinnedNetwork(db: Db, ticket: string): Promise<string | null> {
  const row = await db.prepare("SELECT network FROM ticket_pins WHERE ticket_id = ?1").bind(ticket).first<{ network: string }>();
  return row?.network ?? null;
}

/**
 * Pins `network` as the ticket's second network unless one is pinned already, and returns the
 * network pinned, whichever request pinned it (concurrent first requests agree on one), or null
 * when none can be read back (then nobody is admitted).
 */
async function pinNetwork(db: Db, ticket: string, network: string, expiresAt: number): Promise<string | null> {
  const row = await db
    .prepare("INSERT INTO ticket_pins (ticket_id, network, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT (ticket_id) DO NOTHING RETURNING network")
    .bind(ticket, network, expiresAt)
    .first<{ network: string }>();
  return row?.network ?? (await pinnedNetwork(db, ticket));
}

const family = (network: string) => (network.includes(":") ? "IPv6" : "IPv4");

/**
 * How long after the grant the other address family may still claim the ticket. A dual-stack
 * browser switches family, if at all, on the request right after the grant (following the 303);
 * a stranger who learns the URL later finds the slot closed.
 */
const PIN_WINDOW_SECONDS = 120;

/**
 * An IP-locked grant's ticket admits the network its grant came from (IPv4 address, IPv6 /64)
 * and, since a dual-stack browser may reach the gateway over the other family on its next
 * request, the first network of the other family that asks for it within PIN_WINDOW_SECONDS,
 * pinned for the ticket's lifetime. Anyone else, and a move to a third network, is refused.
 */
export async function sameRequester(db: Db, ticket: Ticket & { network: string }, ip: string | null, now: number): Promise<boolean> {
  const here = ip === null ? null : clientNetwork(ip);
  if (here === null) return false;
  if (here === ticket.network) return true;
  if (family(here) === family(ticket.network)) return false;
  const pinned = await pinnedNetwork(db, ticket.id);
  if (pinned !== null) return pinned === here;
  if (now / 1000 - ticket.issuedAt > PIN_WINDOW_SECONDS) return false;
  return (await pinNetwork(db, ticket.id, here, ticket.expiresAt * 1000)) === here;
}

/** Retention: deletes the pins of tickets expired by `now`. */
export async function deleteExpiredPins(db: Db, now: number): Promise<number> {
  return (await db.prepare("DELETE FROM ticket_pins WHERE expires_at < ?1").bind(now).run()).meta.changes;
}
