import type { Db } from "../db/types";

/**
 * Takes one download from the user's quota for `day`, atomically: the upsert changes nothing
 * (and returns no row) once `limit` is reached. In a batch, `changes()` after it says whether it
 * took one, which the audit insert that follows is conditional on.
 */
export function takeQuotaStatement(db: Db, user: string, day: string, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO quota_usage (user_id, day, used) VALUES (?1, ?2, 1)
       ON CONFLICT (user_id, day) DO UPDATE SET used = used + 1 WHERE used < ?3
       RETURNING used`,
    )
    .bind(user, day, limit);
}

/** Downloads the user has taken on `day` (0 without a row). */
export async function quotaUsed(db: Db, user: string, day: string): Promise<number> {
  const row = await db.prepare("SELECT used FROM quota_usage WHERE user_id = ?1 AND day = ?2").bind(user, day).first<{ used: number }>();
  return row?.used ?? 0;
}
