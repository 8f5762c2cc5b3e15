import type { DownloadType } from "../config/config";
import { deleteInBatches, type Db } from "../storage/d1";
import { keysetPage } from "../storage/paging";
import { linkNames, type LinkNames } from "./ids";

/** How a link's grants reach the file (docs/http-api.md › Share links). */
export const LINK_DELIVERIES = ["gateway", "redirect"] as const;
export type LinkDelivery = (typeof LINK_DELIVERIES)[number];

export interface ShareLink {
  /** The public id (ids.ts): names the link everywhere but its URL. */
  id: string;
  /** What its URL carries: the capability. */
  secret: string;
  creator: string;
  video: string;
  type: DownloadType;
  /** How its grants are handed over: through the gateway's /d/ URL, counted and revocable, or Stream's URL, neither. */
  delivery: LinkDelivery;
  createdAt: number;
  expiresAt: number;
  maxUses: number | null;
  uses: number;
  countries: string[] | null;
  lockToIp: boolean;
  passwordHash: string | null;
  note: string | null;
  /** The video's name when the link was made (a used-up or expired link's page shows it); null when unknown. */
  title: string | null;
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
  public_id: string | null;
  secret: string | null;
  creator: string;
  video_id: string;
  type: DownloadType;
  delivery: LinkDelivery | null;
  created_at: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  countries: string | null;
  lock_to_ip: number;
  password_hash: string | null;
  note: string | null;
  from_grant: number;
  title: string | null;
  revoked_at: number | null;
  max_networks: number | null;
  max_countries: number | null;
  suspended_at: number | null;
  suspended_networks: number | null;
  suspended_countries: number | null;
  reinstated_at: number | null;
}

/** A row and its names; a row from before public ids is named by the secret that is its key. */
async function fromRow(r: Row): Promise<ShareLink> {
  const names = r.public_id !== null && r.secret !== null ? { publicId: r.public_id, secret: r.secret } : await linkNames(r.id);
  return {
    id: names.publicId,
    secret: names.secret,
    creator: r.creator,
    video: r.video_id,
    type: r.type,
    // Links from before the choice are delivered the safe way: through the gateway.
    delivery: r.delivery ?? "gateway",
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    maxUses: r.max_uses,
    uses: r.uses,
    countries: r.countries === null ? null : (JSON.parse(r.countries) as string[]),
    lockToIp: r.lock_to_ip === 1,
    passwordHash: r.password_hash,
    note: r.note,
    title: r.title,
    fromGrant: r.from_grant === 1,
    revokedAt: r.revoked_at,
    maxNetworks: r.max_networks,
    maxCountries: r.max_countries,
    suspension: r.suspended_at === null ? null : { at: r.suspended_at, networks: r.suspended_networks ?? 0, countries: r.suspended_countries ?? 0 },
    reinstatedAt: r.reinstated_at,
  };
}

/**
 * Inserts the link unless its creator already has `maxActive` live links (unrevoked, unexpired,
 * not used up); the count and the insert are one statement, so concurrent creates cannot pass
 * the cap together. Whether it was inserted.
 */
export async function insertLink(db: Db, l: ShareLink, rowKey: string, maxActive: number): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO share_links (id, public_id, secret, creator, video_id, type, delivery, created_at, expires_at, max_uses, uses, countries,
         lock_to_ip, password_hash, note, from_grant, revoked_at, max_networks, max_countries, title)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, ?15, NULL, ?16, ?17, ?19
       WHERE (SELECT count(*) FROM share_links
              WHERE creator = ?4 AND revoked_at IS NULL AND expires_at > ?8 AND (max_uses IS NULL OR uses < max_uses)) < ?18`,
    )
    .bind(
      rowKey,
      l.id,
      l.secret,
      l.creator,
      l.video,
      l.type,
      l.delivery,
      l.createdAt,
      l.expiresAt,
      l.maxUses,
      l.countries === null ? null : JSON.stringify(l.countries),
      l.lockToIp ? 1 : 0,
      l.passwordHash,
      l.note,
      l.fromGrant ? 1 : 0,
      l.maxNetworks,
      l.maxCountries,
      maxActive,
      l.title,
    )
    .run();
  return result.meta.changes === 1;
}

/**
 * The link a URL's secret names. A link from before public ids (keyed by its secret) is moved
 * first: re-keyed, named, and its audit rows renamed, in one transaction, so that older code
 * no longer finds it.
 */
export async function findBySecret(db: Db, names: LinkNames): Promise<ShareLink | null> {
  const row = await db
    .prepare("SELECT * FROM share_links WHERE public_id = ?1 OR (id = ?2 AND public_id IS NULL)")
    .bind(names.publicId, names.secret)
    .first<Row>();
  if (row === null) return null;
  if (row.public_id === null) await moveLegacy(db, [names]);
  return fromRow(row);
}

/** The link the owner API's path names: by its public id, or by its secret (the id an app kept from before public ids). */
export async function findForOwner(db: Db, given: string): Promise<ShareLink | null> {
  const row = await db.prepare("SELECT * FROM share_links WHERE public_id = ?1").bind(given).first<Row>();
  if (row !== null) return fromRow(row);
  return findBySecret(db, await linkNames(given));
}

async function moveLegacy(db: Db, links: LinkNames[]): Promise<void> {
  if (links.length === 0) return;
  await db.batch(
    links.flatMap(({ secret, publicId, rowKey }) => [
      db.prepare("UPDATE share_links SET id = ?3, public_id = ?2, secret = ?1 WHERE id = ?1 AND public_id IS NULL").bind(secret, publicId, rowKey),
      db.prepare("UPDATE audit_events SET link_id = ?2 WHERE link_id = ?1").bind(secret, publicId),
    ]),
  );
}

/** Moves up to `limit` links from before public ids that are still live (the daily cron): the number moved. */
export async function moveLegacyLinks(db: Db, now: number, limit: number): Promise<number> {
  const rows = await db.prepare("SELECT id FROM share_links WHERE public_id IS NULL AND expires_at > ?1 LIMIT ?2").bind(now, limit).all<{ id: string }>();
  await moveLegacy(db, await Promise.all(rows.results.map((r) => linkNames(r.id))));
  return rows.results.length;
}

/**
 * The creator's links, newest first; the cursor is the last row's (created_at, public id). A row
 * from before public ids sorts by its key until it is moved, which this listing does.
 */
export async function listLinks(
  db: Db,
  creator: string,
  page: { cursor?: { createdAt: number; id: string }; limit: number },
): Promise<{ links: ShareLink[]; next: { createdAt: number; id: string } | null }> {
  const rows = await db
    .prepare(
      `SELECT * FROM share_links WHERE creator = ?1 AND (?2 IS NULL OR (created_at, coalesce(public_id, id)) < (?2, ?3))
       ORDER BY created_at DESC, coalesce(public_id, id) DESC LIMIT ?4`,
    )
    .bind(creator, page.cursor?.createdAt ?? null, page.cursor?.id ?? null, page.limit + 1)
    .all<Row>();
  const kept = keysetPage(rows.results, page.limit, (r) => ({ createdAt: r.created_at, id: r.public_id ?? r.id }));
  const links = await Promise.all(kept.rows.map(fromRow));
  // A link listed by its public id must be found by it.
  await moveLegacy(db, await Promise.all(kept.rows.filter((r) => r.public_id === null).map((r) => linkNames(r.id))));
  return { links, next: kept.next };
}

/** A link a revocation changed: what its `link.revoked` event names. */
export interface RevokedLink {
  id: string;
  video: string;
  creator: string;
}

/** Marks one link revoked in the index; `creator` limits it to the creator's own. Whether it changed. */
export async function revokeLink(db: Db, id: string, now: number, creator?: string): Promise<boolean> {
  const result = await db
    .prepare("UPDATE share_links SET revoked_at = ?2 WHERE public_id = ?1 AND (?3 IS NULL OR creator = ?3) AND revoked_at IS NULL")
    .bind(id, now, creator ?? null)
    .run();
  return result.meta.changes === 1;
}

/** Marks revoked every live link of a user, a video, or both (made under a grant, with `fromGrant`): the links, by public id. */
export async function revokeLinksOf(db: Db, by: LinksOf, now: number): Promise<RevokedLink[]> {
  const result = await db
    .prepare(
      `UPDATE share_links SET revoked_at = ?3
       WHERE revoked_at IS NULL AND (?1 IS NULL OR creator = ?1) AND (?2 IS NULL OR video_id = ?2) AND (?4 IS NULL OR from_grant = 1)
       RETURNING id, public_id, video_id AS video, creator`,
    )
    .bind(by.user ?? null, by.video ?? null, now, by.fromGrant ? 1 : null)
    .all<RevokedLink & { public_id: string | null }>();
  return Promise.all(
    result.results.map(async (r) => ({ id: r.public_id ?? (await linkNames(r.id)).publicId, video: r.video, creator: r.creator })),
  );
}

/** Which links an action on many takes: a user's, a video's, or both (only those made under a grant, with `fromGrant`). */
export interface LinksOf {
  user?: string;
  video?: string;
  fromGrant?: true;
}

/** The public ids of the live (unrevoked, unexpired) links `by` names. */
export async function liveLinksOf(db: Db, by: LinksOf, now: number): Promise<string[]> {
  const rows = await db
    .prepare(
      `SELECT id, public_id FROM share_links
       WHERE revoked_at IS NULL AND expires_at > ?3 AND (?1 IS NULL OR creator = ?1) AND (?2 IS NULL OR video_id = ?2) AND (?4 IS NULL OR from_grant = 1)`,
    )
    .bind(by.user ?? null, by.video ?? null, now, by.fromGrant ? 1 : null)
    .all<{ id: string; public_id: string | null }>();
  return Promise.all(rows.results.map(async (r) => r.public_id ?? (await linkNames(r.id)).publicId));
}

/** The index's copy of a link's suspension (the link's object decided it). */
export async function indexSuspension(db: Db, id: string, suspension: Suspension | null, reinstatedAt: number | null): Promise<void> {
  await db
    .prepare(
      `UPDATE share_links SET suspended_at = ?2, suspended_networks = ?3, suspended_countries = ?4, reinstated_at = coalesce(?5, reinstated_at)
       WHERE public_id = ?1`,
    )
    .bind(id, suspension?.at ?? null, suspension?.networks ?? null, suspension?.countries ?? null, reinstatedAt)
    .run();
}

/**
 * The index's use counts, from the audit trail (the queue's consumer, after writing a batch):
 * each link's uses are its audit rows. Never lowered: retention may have deleted old rows.
 */
export function indexUses(db: Db, ids: string[]): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE share_links SET uses = max(uses, (SELECT count(*) FROM audit_events WHERE link_id = share_links.public_id))
       WHERE public_id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(ids));
}

/** Retention: deletes the links that expired before `cutoff` (share_links is WITHOUT ROWID: batches are chosen by its primary key). */
export const deleteLinksExpiredBefore = (db: Db, cutoff: number): Promise<number> =>
  deleteInBatches(db, "DELETE FROM share_links WHERE id IN (SELECT id FROM share_links WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)", cutoff);
