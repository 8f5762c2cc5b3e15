import type { Db } from "../db/types";

export interface AuditEvent {
  at: number;
  user: string | null;
  link: string | null;
  video: string;
  type: string;
  mode: string;
  country: string | null;
  outcome: string;
}

/**
 * The insert of one audit row. `afterChange` makes it conditional on the statement before it in a
 * `db.batch()` having changed exactly one row (SQLite's `changes()`): a share link's use and its
 * audit row are written together or not at all.
 */
export function auditStatement(db: Db, e: AuditEvent, options: { afterChange?: boolean } = {}): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (at, user_id, link_id, video_id, type, mode, country, outcome)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE ?9 = 0 OR changes() = 1`,
    )
    .bind(e.at, e.user, e.link, e.video, e.type, e.mode, e.country, e.outcome, options.afterChange ? 1 : 0);
}

export interface AuditRecord extends AuditEvent {
  id: number;
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
  at: number;
  user_id: string | null;
  link_id: string | null;
  video_id: string;
  type: string;
  mode: string;
  country: string | null;
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
      `SELECT id, at, user_id, link_id, video_id, type, mode, country, outcome FROM audit_events
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY at DESC, id DESC LIMIT ?`,
    )
    .bind(...params, q.limit + 1)
    .all<AuditRow>();
  const page = rows.results.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    events: page.map((r) => ({
      id: r.id,
      at: r.at,
      user: r.user_id,
      link: r.link_id,
      video: r.video_id,
      type: r.type,
      mode: r.mode,
      country: r.country,
      outcome: r.outcome,
    })),
    next: rows.results.length > q.limit && last ? { at: last.at, id: last.id } : null,
  };
}
