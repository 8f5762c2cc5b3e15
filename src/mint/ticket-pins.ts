import type { Db } from "../storage/d1";

/** The network pinned as the ticket's second one, or null. */
export async function pinnedNetwork(db: Db, ticket: string): Promise<string | null> {
  const row = await db.prepare("SELECT network FROM ticket_pins WHERE ticket_id = ?1").bind(ticket).first<{ network: string }>();
  return row?.network ?? null;
}

/**
 * Pins `network` as the ticket's second network unless one is pinned already, and returns the
 * network pinned, whichever request pinned it (concurrent first requests agree on one), or null
 * when none can be read back (then nobody is admitted).
 */
export async function pinNetwork(db: Db, ticket: string, network: string, expiresAt: number): Promise<string | null> {
  const row = await db
    .prepare("INSERT INTO ticket_pins (ticket_id, network, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT (ticket_id) DO NOTHING RETURNING network")
    .bind(ticket, network, expiresAt)
    .first<{ network: string }>();
  return row?.network ?? (await pinnedNetwork(db, ticket));
}
