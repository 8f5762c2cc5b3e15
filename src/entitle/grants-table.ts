import type { Db } from "../storage/d1";
import { keysetPage } from "../storage/paging";

export interface Grant {
  user: string;
  video: string;
  /** Unix ms, or null for a grant that does not expire. */
  expiresAt: number | null;
}

/** The user's live grant of the video (expiry null: never), or undefined when there is none. */
export async function findGrant(
  db: Db,
  user: string,
  video: string,
  now: number,
): Promise<{ expiresAt: number | null; createdAt: number } | undefined> {
  const row = await db
    .prepare(
      "SELECT expires_at, created_at FROM grants WHERE user_id = ?1 AND video_id = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
    )
    .bind(user, video, now)
    .first<{ expires_at: number | null; created_at: number }>();
  return row === null ? undefined : { expiresAt: row.expires_at, createdAt: row.created_at };
}

// Batches travel as one JSON parameter through json_each: one statement for up to 1,000 rows,
// clear of D1's limits on bound parameters and queries per invocation.
export async function upsertGrants(db: Db, grants: Grant[], now: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO grants (user_id, video_id, expires_at, created_at)
       SELECT value ->> '$.user', value ->> '$.video', value ->> '$.expiresAt', ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (user_id, video_id) DO UPDATE SET expires_at = excluded.expires_at`,
    )
    .bind(JSON.stringify(grants), now)
    .run();
}

export async function deleteGrants(db: Db, pairs: { user: string; video: string }[]): Promise<number> {
  const result = await db
    .prepare(
      `DELETE FROM grants WHERE (user_id, video_id) IN
         (SELECT value ->> '$.user', value ->> '$.video' FROM json_each(?1))`,
    )
    .bind(JSON.stringify(pairs))
    .run();
  return result.meta.changes;
}

export interface GrantPage {
  grants: Grant[];
  next: { user: string; video: string } | null;
}

/** Ordered by (user, video); the cursor is the last row's key. */
export async function listGrants(
  db: Db,
  filter: { user?: string; video?: string; cursor?: { user: string; video: string }; limit: number },
): Promise<GrantPage> {
  const rows = await db
    .prepare(
      `SELECT user_id, video_id, expires_at FROM grants
       WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR video_id = ?2)
         AND (?3 IS NULL OR (user_id, video_id) > (?3, ?4))
       ORDER BY user_id, video_id LIMIT ?5`,
    )
    .bind(filter.user ?? null, filter.video ?? null, filter.cursor?.user ?? null, filter.cursor?.video ?? null, filter.limit + 1)
    .all<{ user_id: string; video_id: string; expires_at: number | null }>();
  const page = keysetPage(rows.results, filter.limit, (r) => ({ user: r.user_id, video: r.video_id }));
  return { grants: page.rows.map((r) => ({ user: r.user_id, video: r.video_id, expiresAt: r.expires_at })), next: page.next };
}
