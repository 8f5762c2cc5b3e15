import type { DownloadType } from "../config";
import type { Db } from "../db/types";

export interface ShareLink {
  id: string;
  creator: string;
  video: string;
  type: DownloadType;
  createdAt: number;
  expiresAt: number;
  maxUses: number | null;
  uses: number;
  countries: string[] | null;
  lockToIp: boolean;
  passwordHash: string | null;
  note: string | null;
  fromGrant: boolean;
  revokedAt: number | null;
  /** Suspended when used from more networks or countries than these within SHARE_LINK_LEAK_WINDOW; null: no limit. */
  maxNetworks: number | null;
  maxCountries: number | null;
  suspension: Suspension | null;
  /** Uses before this do not count towards the limits. */
  reinstatedAt: number | null;
}

/** Why a link was suspended: what the window held when it was. */
export interface Suspension {
  at: number;
  networks: number;
  countries: number;
}

interface Row {
  id: string;
  creator: string;
  video_id: string;
  type: DownloadType;
  created_at: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  countries: string | null;
  lock_to_ip: number;
  password_hash: string | null;
  note: string | null;
  from_grant: number;
  revoked_at: number | null;
  max_networks: number | null;
  max_countries: number | null;
  suspended_at: number | null;
  suspended_networks: number | null;
  suspended_countries: number | null;
  reinstated_at: number | null;
}

const fromRow = (r: Row): ShareLink => ({
  id: r.id,
  creator: r.creator,
  video: r.video_id,
  type: r.type,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  maxUses: r.max_uses,
  uses: r.uses,
  countries: r.countries === null ? null : (JSON.parse(r.countries) as string[]),
  lockToIp: r.lock_to_ip === 1,
  passwordHash: r.password_hash,
  note: r.note,
  fromGrant: r.from_grant === 1,
  revokedAt: r.revoked_at,
  maxNetworks: r.max_networks,
  maxCountries: r.max_countries,
  suspension: r.suspended_at === null ? null : { at: r.suspended_at, networks: r.suspended_networks ?? 0, countries: r.suspended_countries ?? 0 },
  reinstatedAt: r.reinstated_at,
});

/**
 * Inserts the link unless its creator already has `maxActive` live links (unrevoked, unexpired,
 * not used up); the count and the insert are one statement, so concurrent creates cannot pass
 * the cap together. Whether it was inserted.
 */
export async function insertLink(db: Db, l: ShareLink, maxActive: number): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO share_links (id, creator, video_id, type, created_at, expires_at, max_uses, uses, countries,
         lock_to_ip, password_hash, note, from_grant, revoked_at, max_networks, max_countries)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12, NULL, ?14, ?15
       WHERE (SELECT count(*) FROM share_links
              WHERE creator = ?2 AND revoked_at IS NULL AND expires_at > ?5 AND (max_uses IS NULL OR uses < max_uses)) < ?13`,
    )
    .bind(
      l.id,
      l.creator,
      l.video,
      l.type,
      l.createdAt,
      l.expiresAt,
      l.maxUses,
      l.countries === null ? null : JSON.stringify(l.countries),
      l.lockToIp ? 1 : 0,
      l.passwordHash,
      l.note,
      l.fromGrant ? 1 : 0,
      maxActive,
      l.maxNetworks,
      l.maxCountries,
    )
    .run();
  return result.meta.changes === 1;
}

export async function findLink(db: Db, id: string): Promise<ShareLink | null> {
  const row = await db.prepare("SELECT * FROM share_links WHERE id = ?1").bind(id).first<Row>();
  return row === null ? null : fromRow(row);
}

/** The creator's links, newest first; the cursor is the last row's (created_at, id). */
export async function listLinks(
  db: Db,
  creator: string,
  page: { cursor?: { createdAt: number; id: string }; limit: number },
): Promise<{ links: ShareLink[]; next: { createdAt: number; id: string } | null }> {
  const rows = await db
    .prepare(
      `SELECT * FROM share_links WHERE creator = ?1 AND (?2 IS NULL OR (created_at, id) < (?2, ?3))
       ORDER BY created_at DESC, id DESC LIMIT ?4`,
    )
    .bind(creator, page.cursor?.createdAt ?? null, page.cursor?.id ?? null, page.limit + 1)
    .all<Row>();
  const links = rows.results.slice(0, page.limit).map(fromRow);
  const last = links[links.length - 1];
  return { links, next: rows.results.length > page.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

/** A link a revocation changed: what its `link.revoked` event names. */
export interface RevokedLink {
  id: string;
  video: string;
  creator: string;
}

/** Revokes one link; `creator` limits it to the creator's own. The link, or null when it was already revoked (or not theirs). */
export async function revokeLink(db: Db, id: string, now: number, creator?: string): Promise<RevokedLink | null> {
  return db
    .prepare(
      `UPDATE share_links SET revoked_at = ?2 WHERE id = ?1 AND (?3 IS NULL OR creator = ?3) AND revoked_at IS NULL
       RETURNING id, video_id AS video, creator`,
    )
    .bind(id, now, creator ?? null)
    .first<RevokedLink>();
}

export async function revokeLinksOf(db: Db, by: { user?: string; video?: string; fromGrant?: true }, now: number): Promise<RevokedLink[]> {
  const result = await db
    .prepare(
      `UPDATE share_links SET revoked_at = ?3
       WHERE revoked_at IS NULL AND (?1 IS NULL OR creator = ?1) AND (?2 IS NULL OR video_id = ?2) AND (?4 IS NULL OR from_grant = 1)
       RETURNING id, video_id AS video, creator`,
    )
    .bind(by.user ?? null, by.video ?? null, now, by.fromGrant ? 1 : null)
    .all<RevokedLink>();
  return result.results;
}

/**
 * Takes one use of a live link in one round trip: the UPDATE matches only while the link is
 * unrevoked, unsuspended, unexpired and not used up, and D1 runs it alone, so N concurrent downloads of a
 * k-use link take exactly k uses. The uses after this one, or null when none could be taken.
 */
export async function takeUse(db: Db, id: string, now: number): Promise<number | null> {
  const row = await db
    .prepare(
      `UPDATE share_links SET uses = uses + 1
       WHERE id = ?1 AND revoked_at IS NULL AND suspended_at IS NULL AND expires_at > ?2 AND (max_uses IS NULL OR uses < max_uses)
       RETURNING uses`,
    )
    .bind(id, now)
    .first<{ uses: number }>();
  return row?.uses ?? null;
}

/** Gives back a use taken for a grant that could then not be recorded. */
export async function giveBackUse(db: Db, id: string): Promise<void> {
  await db.prepare("UPDATE share_links SET uses = uses - 1 WHERE id = ?1 AND uses > 0").bind(id).run();
}

/** A link the leak check suspended, and what its `link.suspended` event says. */
export interface SuspendedLink extends RevokedLink {
  suspendedAt: number;
  networks: number;
  countries: number;
  maxNetworks: number | null;
  maxCountries: number | null;
}

/**
 * Suspends each of these links whose uses since `windowStart` (or since it was reinstated, if
 * later) came from more distinct networks or countries than it allows (a client the edge could
 * not place, Tor's included, counts as the country "unknown": hiding the country does not escape),
 * in one transaction, and answers those of them that are suspended now (by this call or an earlier try of the same batch,
 * so that a retried batch still names them). Counted from the audit trail, so it runs where audit
 * rows are written (the queue's consumer).
 */
export async function suspendLeakedLinks(db: Db, ids: string[], windowStart: number, now: number): Promise<SuspendedLink[]> {
  if (ids.length === 0) return [];
  // The window's distinct networks and countries, counted once per link and both compared and kept.
  const statement = db.prepare(
    `UPDATE share_links SET suspended_at = ?3, suspended_networks = seen.networks, suspended_countries = seen.countries
     FROM (SELECT count(DISTINCT coalesce(a.network, 'unknown')) AS networks, count(DISTINCT coalesce(a.country, 'unknown')) AS countries
           FROM share_links AS l JOIN audit_events AS a ON a.link_id = l.id
           WHERE l.id = ?1 AND a.at >= max(?2, coalesce(l.reinstated_at, 0))) AS seen
     WHERE share_links.id = ?1 AND share_links.suspended_at IS NULL AND share_links.revoked_at IS NULL
       AND ((share_links.max_networks IS NOT NULL AND seen.networks > share_links.max_networks)
         OR (share_links.max_countries IS NOT NULL AND seen.countries > share_links.max_countries))`,
  );
  const suspended = db
    .prepare(
      `SELECT id, video_id AS video, creator, suspended_at AS suspendedAt, suspended_networks AS networks,
         suspended_countries AS countries, max_networks AS maxNetworks, max_countries AS maxCountries
       FROM share_links WHERE suspended_at IS NOT NULL AND id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(ids));
  const results = await db.batch<SuspendedLink>([...ids.map((id) => statement.bind(id, windowStart, now)), suspended]);
  return results[results.length - 1]?.results ?? [];
}

/**
 * Lifts a suspension of one of `creator`'s links; its earlier uses stop counting. The link as
 * reinstated, or null when it was not suspended (or not the creator's).
 */
export async function reinstateLink(db: Db, id: string, creator: string, now: number): Promise<ShareLink | null> {
  const row = await db
    .prepare(
      `UPDATE share_links SET suspended_at = NULL, suspended_networks = NULL, suspended_countries = NULL, reinstated_at = ?3
       WHERE id = ?1 AND creator = ?2 AND suspended_at IS NOT NULL AND revoked_at IS NULL RETURNING *`,
    )
    .bind(id, creator, now)
    .first<Row>();
  return row === null ? null : fromRow(row);
}
