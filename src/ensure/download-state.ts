import type { DownloadType } from "../config/config";
import type { Db } from "../storage/d1";

export type StateStatus = "pending" | "inprogress" | "ready" | "error";

/** Why Stream cannot make the download, kept while the row is 'pending' (see the migration). */
export const REFUSALS = ["video-not-ready", "video-not-protected", "video-not-downloadable", "not-entitled", "download-failed"] as const;
export type Refusal = (typeof REFUSALS)[number];

/** A stored refusal; one this version does not know (written by another) counts as none: Stream is asked again. */
const toRefusal = (value: string | null): Refusal | null => (REFUSALS as readonly string[]).includes(value ?? "") ? (value as Refusal) : null;

export interface DownloadState {
  video: string;
  type: DownloadType;
  status: StateStatus;
  refusal: Refusal | null;
  percent: number;
  videoName: string | null;
  /** Seconds, or null while unknown (the share page shows it). */
  videoDuration: number | null;
  /** The file's size in bytes once a HEAD at Stream's delivery host told it (the share page shows it). */
  downloadBytes: number | null;
  /** When a request last took the size check (0: never). */
  sizeCheckedAt: number;
  checkedAt: number;
  polledAt: number;
  polls: number;
}

interface Row {
  video_id: string;
  type: DownloadType;
  status: StateStatus;
  refusal: string | null;
  percent: number;
  video_name: string | null;
  video_duration: number | null;
  download_bytes: number | null;
  size_checked_at: number;
  checked_at: number;
  polled_at: number;
  polls: number;
}

const fromRow = (r: Row): DownloadState => ({
  video: r.video_id,
  type: r.type,
  status: r.status,
  refusal: toRefusal(r.refusal),
  percent: r.percent,
  videoName: r.video_name,
  videoDuration: r.video_duration,
  downloadBytes: r.download_bytes,
  sizeCheckedAt: r.size_checked_at,
  checkedAt: r.checked_at,
  polledAt: r.polled_at,
  polls: r.polls,
});

export async function readState(db: Db, video: string, type: DownloadType): Promise<DownloadState | null> {
  const row = await db.prepare("SELECT * FROM download_state WHERE video_id = ?1 AND type = ?2").bind(video, type).first<Row>();
  return row === null ? null : fromRow(row);
}

/**
 * Creates the row as 'pending' with the poll lease taken, or returns null when another request
 * created it first: of many first requests, exactly one goes on to ask Stream.
 */
export async function claimNewState(db: Db, video: string, type: DownloadType, now: number): Promise<DownloadState | null> {
  const row = await db
    .prepare(
      `INSERT INTO download_state (video_id, type, status, checked_at, polled_at) VALUES (?1, ?2, 'pending', 0, ?3)
       ON CONFLICT (video_id, type) DO NOTHING RETURNING *`,
    )
    .bind(video, type, now)
    .first<Row>();
  return row === null ? null : fromRow(row);
}

/** Takes the poll lease when nobody took it since `before`; null when someone did. */
export async function takePollLease(
  db: Db,
  video: string,
  type: DownloadType,
  now: number,
  before: number,
): Promise<DownloadState | null> {
  const row = await db
    .prepare(
      `UPDATE download_state SET polled_at = ?3
       WHERE video_id = ?1 AND type = ?2 AND polled_at <= ?4 RETURNING *`,
    )
    .bind(video, type, now, before)
    .first<Row>();
  return row === null ? null : fromRow(row);
}

/** A file no longer ready may come back as another: its size is forgotten, to be asked again then. */
export async function saveState(db: Db, s: DownloadState): Promise<void> {
  await db
    .prepare(
      `UPDATE download_state SET status = ?3, refusal = ?4, percent = ?5, video_name = ?6, checked_at = ?7, polls = ?8, video_duration = ?9,
         download_bytes = CASE WHEN ?3 = 'ready' THEN download_bytes END,
         size_checked_at = CASE WHEN ?3 = 'ready' THEN size_checked_at ELSE 0 END
       WHERE video_id = ?1 AND type = ?2`,
    )
    .bind(s.video, s.type, s.status, s.refusal, s.percent, s.videoName, s.checkedAt, s.polls, s.videoDuration)
    .run();
}

/** Takes the size check when nobody took it since `before`: of many page views, one asks Stream. */
export async function takeSizeCheck(db: Db, s: DownloadState, now: number, before: number): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE download_state SET size_checked_at = ?3
       WHERE video_id = ?1 AND type = ?2 AND download_bytes IS NULL AND size_checked_at <= ?4 RETURNING 1 AS taken`,
    )
    .bind(s.video, s.type, now, before)
    .first<{ taken: number }>();
  return row !== null;
}

export async function saveSize(db: Db, s: DownloadState, bytes: number): Promise<void> {
  await db.prepare("UPDATE download_state SET download_bytes = ?3 WHERE video_id = ?1 AND type = ?2").bind(s.video, s.type, bytes).run();
}

export async function deleteState(db: Db, video: string, type?: DownloadType): Promise<void> {
  await db
    .prepare("DELETE FROM download_state WHERE video_id = ?1 AND (?2 IS NULL OR type = ?2)")
    .bind(video, type ?? null)
    .run();
}

/**
 * Rows still 'pending' with no refusal (a preparation or a poll that failed), lease free since
 * `before`, of videos the kill switch does not hold (entitle/blocked-table.ts): skipped after
 * the query, they would keep the head of the order and hold up every other row.
 */
export async function unfinishedStates(db: Db, types: readonly DownloadType[], before: number, limit: number): Promise<{ video: string; type: DownloadType }[]> {
  const rows = await db
    .prepare(
      `SELECT video_id, type FROM download_state
       WHERE status = 'pending' AND refusal IS NULL AND polled_at <= ?2 AND type IN (SELECT value FROM json_each(?1))
         AND video_id NOT IN (SELECT video_id FROM blocked_videos)
       ORDER BY polled_at LIMIT ?3`,
    )
    .bind(JSON.stringify(types), before, limit)
    .all<{ video_id: string; type: DownloadType }>();
  return rows.results.map((r) => ({ video: r.video_id, type: r.type }));
}

/**
 * Retention: deletes the states still pending that nobody asked about since `cutoff`. A refusal
 * (not ready, not protected, failed) is rechecked on demand; one nobody asked about is dropped
 * rather than kept forever.
 */
export async function deleteStalePending(db: Db, cutoff: number): Promise<number> {
  return (await db.prepare("DELETE FROM download_state WHERE status = 'pending' AND polled_at < ?1").bind(cutoff).run()).meta.changes;
}
