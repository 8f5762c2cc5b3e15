// Whether Stream's events are live (stream-events.ts): while download events keep coming and no
// safety poll has caught one missing, a download in progress waits for its event and is polled
// only once a minute; otherwise downloads are polled as without events.
import type { Db } from "../storage/d1";
import type { MemoryCache } from "../storage/memory-cache";

/** While events are live, a download in progress is still asked about this often: a lost message costs a minute, not forever. */
export const SAFETY_POLL_SECONDS = 60;
/** Download events seen this recently mean the subscription covers downloads. */
const LIVE_MS = 7 * 86_400_000;
/** After a safety poll found a download finished that no event announced, poll as without events this long. */
const DISTRUST_MS = 86_400_000;

/** A download event arrived, sent at `at`; `finished` when it says the download is ready or failed. */
export async function noteDownloadEvent(db: Db, at: number, finished: boolean): Promise<void> {
  await db
    .prepare(
      `INSERT INTO stream_events (id, last_event_at, completion_at) VALUES (1, ?1, CASE WHEN ?2 THEN ?1 END)
       ON CONFLICT (id) DO UPDATE SET last_event_at = MAX(last_event_at, ?1),
         completion_at = CASE WHEN ?2 THEN MAX(COALESCE(completion_at, 0), ?1) ELSE completion_at END`,
    )
    .bind(at, finished ? 1 : 0)
    .run();
}

/**
 * A safety poll found a download finished that no event had announced: Stream's events for
 * finished downloads did not come (a subscription without them, or a lost message), so downloads
 * are polled again as without events, until an event announces a finished download.
 */
export async function noteMissedCompletion(db: Db, cache: MemoryCache, now: number): Promise<void> {
  cache.delete(LIVE_KEY);
  await db.prepare("UPDATE stream_events SET missed_at = ?1 WHERE id = 1").bind(now).run();
}

const LIVE_KEY = "stream-events:live";

/**
 * Whether downloads in progress wait for Stream's events (polled once a minute, users told to come
 * back in a second) or are polled as before: events are live while download events keep coming and
 * no safety poll has caught one missing. Only "live" is remembered in isolate memory: the first
 * event after a download is created must switch it on at once.
 */
export async function eventsLive(db: Db, cache: MemoryCache, now: number): Promise<boolean> {
  if (cache.get<boolean>(LIVE_KEY, now)) return true;
  const row = await db
    .prepare("SELECT last_event_at, completion_at, missed_at FROM stream_events WHERE id = 1")
    .first<{ last_event_at: number; completion_at: number | null; missed_at: number | null }>();
  const distrusted = row?.missed_at != null && row.missed_at > (row.completion_at ?? 0) && now - row.missed_at < DISTRUST_MS;
  const live = row !== null && now - row.last_event_at < LIVE_MS && !distrusted;
  if (live) cache.set(LIVE_KEY, true, 10_000, now);
  return live;
}
