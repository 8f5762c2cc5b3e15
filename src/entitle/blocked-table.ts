import type { Db } from "../storage/d1";

export async function isBlocked(db: Db, video: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM blocked_videos WHERE video_id = ?1").bind(video).first()) !== null;
}

export async function blockVideo(db: Db, video: string, now: number, reason: string | null): Promise<void> {
  await db
    .prepare("INSERT INTO blocked_videos (video_id, blocked_at, reason) VALUES (?1, ?2, ?3) ON CONFLICT (video_id) DO NOTHING")
    .bind(video, now, reason)
    .run();
}

export async function unblockVideo(db: Db, video: string): Promise<boolean> {
  return (await db.prepare("DELETE FROM blocked_videos WHERE video_id = ?1").bind(video).run()).meta.changes > 0;
}
