import type { Db } from "./types";

/**
 * Takes one download from the user's quota for `day` in one atomic statement; the downloads
 * left after it, or null when the quota was already used up.
 */
export async function takeQuota(db: Db, user: string, day: string, limit: number): Promise<number | null> {
  const row = await db
    .prepare(
      `INSERT INTO quota_usage (user_id, day, used) VALUES (?1, ?2, 1)
       ON CONFLICT (user_id, day) DO UPDATE SET used = used + 1 WHERE used < ?3
       RETURNING used`,
    )
    .bind(user, day, limit)
    .first<{ used: number }>();
  return row === null ? null : limit - row.used;
}
