// The shop's record of who bought which video (by its Stream UID).

export interface Purchase {
  videoUid: string;
  title: string;
}

export async function purchasesOf(db: D1Database, userId: string): Promise<Purchase[]> {
  const { results } = await db
    .prepare("SELECT video_uid AS videoUid, title FROM purchases WHERE user_id = ? ORDER BY purchased_at DESC")
    .bind(userId)
    .all<Purchase>();
  return results;
}

export async function hasPurchased(db: D1Database, userId: string, videoUid: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM purchases WHERE user_id = ? AND video_uid = ?").bind(userId, videoUid).first()) !== null;
}
