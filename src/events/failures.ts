// Events whose delivery finally failed (delivery.ts): kept until they are queued again
// (`POST /v1/admin/events/failed/redeliver`) or retention removes them.
import { deleteInBatches, type Db } from "../storage/d1";
import { keysetPage } from "../storage/paging";
import type { AppEvent } from "./events";
import { linkNames, SECRET_LENGTH } from "../share-links/ids";

export interface EventFailure {
  event: AppEvent;
  attempts: number;
  lastError: string;
  failedAt: number;
}

export async function recordFailure(db: Db, event: AppEvent, attempts: number, lastError: string, now: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO event_failures (event_id, type, event, attempts, last_error, failed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (event_id) DO UPDATE SET attempts = excluded.attempts, last_error = excluded.last_error, failed_at = excluded.failed_at`,
    )
    .bind(event.id, event.type, JSON.stringify(event), attempts, lastError.slice(0, 500), now)
    .run();
}

interface Row {
  event: string;
  attempts: number;
  last_error: string;
  failed_at: number;
  event_id: string;
}

/** Newest first; the cursor is the last row's (failed_at, event_id). */
export async function listFailures(
  db: Db,
  page: { after?: { failedAt: number; id: string }; limit: number },
): Promise<{ failures: EventFailure[]; next: { failedAt: number; id: string } | null }> {
  const rows = await db
    .prepare(
      `SELECT event, attempts, last_error, failed_at, event_id FROM event_failures
       WHERE ?1 IS NULL OR (failed_at, event_id) < (?1, ?2) ORDER BY failed_at DESC, event_id DESC LIMIT ?3`,
    )
    .bind(page.after?.failedAt ?? null, page.after?.id ?? null, page.limit + 1)
    .all<Row>();
  const kept = keysetPage(rows.results, page.limit, (r) => ({ failedAt: r.failed_at, id: r.event_id }));
  const failures = kept.rows.map((r) => ({ event: JSON.parse(r.event) as AppEvent, attempts: r.attempts, lastError: r.last_error, failedAt: r.failed_at }));
  return { failures, next: kept.next };
}

/** The oldest failures' events, to queue again. */
export async function oldestFailures(db: Db, limit: number): Promise<AppEvent[]> {
  const rows = await db.prepare("SELECT event FROM event_failures ORDER BY failed_at, event_id LIMIT ?1").bind(limit).all<{ event: string }>();
  return rows.results.map((r) => JSON.parse(r.event) as AppEvent);
}

/** Forgets these failures: their events are in the queue again. */
export async function forgetFailures(db: Db, ids: string[]): Promise<void> {
  await db.prepare("DELETE FROM event_failures WHERE event_id IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(ids)).run();
}

/**
 * Names share links by their public id in failures kept from before public ids, whose events
 * carry a link's secret (the daily cron): a kept failure must not hold a capability. The number renamed.
 */
export async function nameLinksInFailures(db: Db, limit: number): Promise<number> {
  const rows = await db
    .prepare("SELECT event_id, event ->> '$.data.link' AS link FROM event_failures WHERE length(event ->> '$.data.link') = ?2 LIMIT ?1")
    .bind(limit, SECRET_LENGTH)
    .all<{ event_id: string; link: string }>();
  if (rows.results.length === 0) return 0;
  const renamed = await Promise.all(rows.results.map(async (r) => ({ id: r.event_id, link: (await linkNames(r.link)).publicId })));
  await db.batch(renamed.map((r) => db.prepare("UPDATE event_failures SET event = json_set(event, '$.data.link', ?2) WHERE event_id = ?1").bind(r.id, r.link)));
  return renamed.length;
}

/** Retention: deletes the failed events that failed before `cutoff`. */
export const deleteFailuresBefore = (db: Db, cutoff: number): Promise<number> =>
  deleteInBatches(db, "DELETE FROM event_failures WHERE event_id IN (SELECT event_id FROM event_failures WHERE failed_at < ?1 ORDER BY failed_at LIMIT ?2)", cutoff);
