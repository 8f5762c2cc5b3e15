// The account's videos as the gateway knows them, learnt from Stream's events, its webhook and
// the gateway's own look-ups (migration 0011). Only two answers are trusted without asking
// Stream: a video ready to stream (until READY_TTL_SECONDS has passed, as download rows are), and
// a UID Stream said it does not know (for one budget window, so that a UID costs at most one
// look-up per window, whoever asks). Anything else, a video still processing above all, is asked
// again: Stream sends no event when a video is uploaded, so absence from the catalogue never
// proves that a video does not exist.
import type { Db } from "../storage/d1";
import { WINDOW_MS } from "../stream/call-gate";
import type { StreamApi, StreamVideo } from "../stream/client";

/** How long "Stream does not know this UID" stands: the API budget's window. */
const ABSENT_MS = WINDOW_MS;

type Catalogued = { kind: "video"; video: StreamVideo } | { kind: "absent" };

interface Row {
  uid: string;
  known: number;
  state: string | null;
  ready_to_stream: number;
  require_signed: number;
  name: string | null;
  duration: number | null;
  error_code: string | null;
  checked_at: number;
}

/** What the catalogue answers for without Stream, or null: ask Stream. */
export async function catalogued(db: Db, uid: string, now: number, readyTtlMs: number): Promise<Catalogued | null> {
  const row = await db.prepare("SELECT * FROM stream_videos WHERE uid = ?1").bind(uid).first<Row>();
  if (row === null) return null;
  if (row.known === 0) return now - row.checked_at < ABSENT_MS ? { kind: "absent" } : null;
  if (row.ready_to_stream !== 1 || now - row.checked_at >= readyTtlMs) return null;
  return {
    kind: "video",
    video: {
      uid,
      readyToStream: true,
      state: row.state ?? "ready",
      errorReasonCode: row.error_code,
      requireSignedURLs: row.require_signed === 1,
      name: row.name,
      duration: row.duration,
    },
  };
}

/** Records what Stream said of `uid` at `at` (null: it has no such video), unless newer news is kept. */
export async function recordVideo(db: Db, uid: string, video: StreamVideo | null, at: number): Promise<void> {
  await upsert(db, [video ?? { uid }], at);
}

/**
 * The 10-minute cron's list sync: one list call (Stream answers up to 1,000, newest first) recorded in one
 * statement, so that a video made ready before the events began, or whose event was lost, costs
 * no look-up on its first download. It proves nothing about videos it does not list.
 */
export async function syncCatalogue(db: Db, stream: StreamApi, now: number, readyTtlMs: number): Promise<number> {
  const videos = await stream.listVideos("newest");
  // A row that says the same and is trusted for half its time yet is left as it is: up to 1,000
  // rows every ten minutes would otherwise be rewritten, index and all, to say nothing new.
  return upsert(db, videos, now, now - readyTtlMs / 2);
}

/**
 * One statement for any number of videos; `{ uid }` alone is a UID Stream does not know. A row
 * checked after `refreshedAfter` that says the same is not written again. The rows written.
 */
async function upsert(db: Db, videos: Array<StreamVideo | { uid: string }>, at: number, refreshedAfter = at): Promise<number> {
  const rows = videos.map((v) =>
    "state" in v ? [v.uid, 1, v.state, v.readyToStream ? 1 : 0, v.requireSignedURLs ? 1 : 0, v.name, v.duration, v.errorReasonCode] : [v.uid, 0, null, 0, 0, null, null, null],
  );
  const result = await db
    .prepare(
      `INSERT INTO stream_videos (uid, known, state, ready_to_stream, require_signed, name, duration, error_code, checked_at)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (uid) DO UPDATE SET known = excluded.known, state = excluded.state, ready_to_stream = excluded.ready_to_stream,
         require_signed = excluded.require_signed, name = excluded.name, duration = excluded.duration,
         error_code = excluded.error_code, checked_at = excluded.checked_at
       WHERE excluded.checked_at >= stream_videos.checked_at
         AND (stream_videos.checked_at <= ?3
           OR (stream_videos.known, stream_videos.state, stream_videos.ready_to_stream, stream_videos.require_signed, stream_videos.name, stream_videos.duration, stream_videos.error_code)
              IS NOT (excluded.known, excluded.state, excluded.ready_to_stream, excluded.require_signed, excluded.name, excluded.duration, excluded.error_code))`,
    )
    .bind(JSON.stringify(rows), at, refreshedAfter)
    .run();
  return result.meta.changes;
}

/** Forgets what is known of `uid` (an admin's refresh): the next request asks Stream. */
export async function forgetCatalogued(db: Db, uid: string): Promise<void> {
  await db.prepare("DELETE FROM stream_videos WHERE uid = ?1").bind(uid).run();
}

/** The 10-minute re-check: "no such video" answers past their window, so random UIDs leave nothing behind. */
export async function pruneCatalogue(db: Db, now: number): Promise<number> {
  const result = await db.prepare("DELETE FROM stream_videos WHERE known = 0 AND checked_at < ?1").bind(now - ABSENT_MS).run();
  return result.meta.changes;
}
