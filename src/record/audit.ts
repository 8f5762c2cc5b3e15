import { keysetPage } from "../storage/paging";
import { deleteInBatches, type Db } from "../storage/d1";

export interface AuditEvent {
  /** Given by the request that granted: the queue delivers at least once, and the row is written once. */
  id: string;
  at: number;
  user: string | null;
  link: string | null;
  video: string;
  type: string;
  mode: string;
  country: string | null;
  /** The requester's coarse network (IPv4 /24, IPv6 /48): what a share link's leak check counts. */
  network: string | null;
  outcome: string;
}

/** The insert of one audit row; an event already written (same id) is left as it is. */
export function auditStatement(db: Db, e: AuditEvent): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (event_id, at, user_id, link_id, video_id, type, mode, country, network, outcome)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (event_id) DO NOTHING`,
    )
    .bind(e.id, e.at, e.user, e.link, e.video, e.type, e.mode, e.country, e.network, e.outcome);
}

/**
 * The insert of many audit rows in one statement, whatever their number: a consumer's batch
 * costs a fixed few statements (D1 counts each statement of a batch against a Worker's queries).
 * Events already written (same id) are left as they are.
 */
export function auditRowsStatement(db: Db, events: AuditEvent[]): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (event_id, at, user_id, link_id, video_id, type, mode, country, network, outcome)
       SELECT e ->> 'id', e ->> 'at', e ->> 'user', e ->> 'link', e ->> 'video', e ->> 'type', e ->> 'mode', e ->> 'country', e ->> 'network', e ->> 'outcome'
       FROM (SELECT value AS e FROM json_each(?1)) WHERE true
       ON CONFLICT (event_id) DO NOTHING`,
    )
    .bind(JSON.stringify(events));
}

/** One row of the trail: `id` is its place in the table (the cursor's tie-break), `eventId` the request's. */
export interface AuditRecord extends Omit<AuditEvent, "id"> {
  id: number;
  eventId: string | null;
}

/** A position in the newest-first order: the last row of the previous page. */
export interface AuditPosition {
  at: number;
  id: number;
}

export interface AuditQuery {
  video?: string;
  user?: string;
  link?: string;
  since?: number;
  after?: AuditPosition;
  limit: number;
}

interface AuditRow {
  id: number;
  event_id: string | null;
  at: number;
  user_id: string | null;
  link_id: string | null;
  video_id: string;
  type: string;
  mode: string;
  country: string | null;
  network: string | null;
  outcome: string;
}

/**
 * Newest first by (at, id): `id` breaks ties between events of the same millisecond, so pages
 * never skip or repeat a row. The WHERE clause is assembled from fixed fragments (values are
 * always bound) so that SQLite can pick the matching (column, at) index; a catch-all
 * `(?1 IS NULL OR user_id = ?1)` would force a scan of the whole retention period.
 */
export async function listAuditEvents(db: Db, q: AuditQuery): Promise<{ events: AuditRecord[]; next: AuditPosition | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, ...values: unknown[]) => {
    where.push(clause);
    params.push(...values);
  };
  if (q.video !== undefined) add("video_id = ?", q.video);
  if (q.user !== undefined) add("user_id = ?", q.user);
  if (q.link !== undefined) add("link_id = ?", q.link);
  if (q.since !== undefined) add("at >= ?", q.since);
  if (q.after !== undefined) add("(at, id) < (?, ?)", q.after.at, q.after.id);
  const rows = await db
    .prepare(
      `SELECT id, event_id, at, user_id, link_id, video_id, type, mode, country, network, outcome FROM audit_events
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY at DESC, id DESC LIMIT ?`,
    )
    .bind(...params, q.limit + 1)
    .all<AuditRow>();
  const page = keysetPage(rows.results, q.limit, (r) => ({ at: r.at, id: r.id }));
  return {
    events: page.rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      at: r.at,
      user: r.user_id,
      link: r.link_id,
      video: r.video_id,
      type: r.type,
      mode: r.mode,
      country: r.country,
      network: r.network,
      outcome: r.outcome,
    })),
    next: page.next,
  };
}

/**
 * The consumer's last batch (when it was written, how long its oldest event had waited; null
 * before the first), the earliest event marked as sent that no written batch has followed yet
 * (null before the first mark and once the consumer has caught up), and what they say of the consumer.
 */
export interface AuditFreshness {
  writtenAt: number | null;
  waitedMs: number | null;
  pendingSince: number | null;
  consumer: ConsumerState;
}

/**
 * "misconfigured": events were sent a minute ago or more and no batch has been written since (the
 * Worker does not export the gateway's queue handler, or D1 has refused it that long); "idle":
 * nothing sent yet; "ok" otherwise.
 */
export type ConsumerState = "ok" | "idle" | "misconfigured";

/** How long sent events may wait unwritten before the consumer counts as missing. */
export const CONSUMER_GRACE_MS = 60_000;

/** Records that a batch was written at `now`, its oldest event sent at `oldestSentAt`; concurrent consumers keep the newest. */
export function progressStatement(db: Db, now: number, oldestSentAt: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_progress (id, written_at, waited_ms) VALUES (1, ?1, ?2)
       ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at, waited_ms = excluded.waited_ms
       WHERE excluded.written_at >= audit_progress.written_at`,
    )
    .bind(now, Math.max(0, now - oldestSentAt));
}

const FRESHNESS_SQL = `SELECT (SELECT written_at FROM audit_progress WHERE id = 1) AS written_at,
                              (SELECT waited_ms FROM audit_progress WHERE id = 1) AS waited_ms,
                              (SELECT sent_at FROM audit_sent WHERE id = 1) AS sent_at`;
type FreshnessRow = { written_at: number | null; waited_ms: number | null; sent_at: number | null };

function freshnessOf(row: FreshnessRow | null, now: number): AuditFreshness {
  const sentAt = row?.sent_at ?? null;
  const writtenAt = row?.written_at ?? null;
  const pendingSince = sentAt !== null && (writtenAt === null || writtenAt < sentAt) ? sentAt : null;
  return {
    writtenAt,
    waitedMs: row?.waited_ms ?? null,
    pendingSince,
    consumer: sentAt === null ? "idle" : pendingSince !== null && now - pendingSince >= CONSUMER_GRACE_MS ? "misconfigured" : "ok",
  };
}

export async function auditFreshness(db: Db, now: number): Promise<AuditFreshness> {
  return freshnessOf(await db.prepare(FRESHNESS_SQL).first<FreshnessRow>(), now);
}

/** Marks an event as sent at `now` unless an earlier mark is still unconfirmed, and answers what was known before the mark. */
export async function markSent(db: Db, now: number): Promise<AuditFreshness> {
  const [before] = await db.batch([
    db.prepare(FRESHNESS_SQL),
    // The mark moves on only once a batch was written after it: under steady traffic a newer
    // mark would otherwise always be under a minute old, and a missing consumer never show.
    db
      .prepare(
        `INSERT INTO audit_sent (id, sent_at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET sent_at = max(audit_sent.sent_at, excluded.sent_at)
         WHERE coalesce((SELECT written_at FROM audit_progress WHERE id = 1), -1) >= audit_sent.sent_at`,
      )
      .bind(now),
  ]);
  return freshnessOf((before?.results[0] as FreshnessRow | undefined) ?? null, now);
}

/** Retention: deletes the audit rows from before `cutoff`. */
export const deleteAuditBefore = (db: Db, cutoff: number): Promise<number> =>
  deleteInBatches(db, "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ?1 ORDER BY at LIMIT ?2)", cutoff);
