// Stream's event subscriptions (docs/stream-behaviour.md › Events): Stream publishes its videos'
// and downloads' events to a Cloudflare Queue that this Worker consumes, so the gateway learns at
// once what it would otherwise poll for. Videos: `video_state.ready`, `.updated`, `.errored`
// (payload: the video, with `id` for its UID). Downloads: `download.created` and `.deleted` are
// documented; the events that say a download finished (`download.ready`, `.errored`) are inferred
// from Stream's count of its event types, so any `download.*` event carrying a status is applied,
// and the gateway checks that they really come (`eventPacing`) before it stops polling.
import * as z from "../input/zod";
import type { DownloadType } from "../config/config";
import type { Db } from "../storage/d1";
import { UID_PATTERN } from "../input/validate";
import type { MemoryCache } from "../storage/memory-cache";
import { toVideo, Video } from "../stream/client";
import { onVideoProcessed, type WebhookDeps } from "./video-processed";
import { deleteState, type StateStatus } from "./download-state";

/** While events are live, a download in progress is still asked about this often: a lost message costs a minute, not forever. */
export const SAFETY_POLL_SECONDS = 60;
/** Download events seen this recently mean the subscription covers downloads. */
const LIVE_MS = 7 * 86_400_000;
/** After a safety poll found a download finished that no event announced, poll as without events this long. */
const DISTRUST_MS = 86_400_000;

const Uid = z.string().check(z.regex(UID_PATTERN));
const Envelope = z.object({
  type: z.string().check(z.startsWith("cf.stream.")),
  payload: z.record(z.string(), z.unknown()),
  metadata: z.object({ eventTimestamp: z.iso.datetime({ offset: true }) }),
});
const VideoPayload = z.extend(Video, { id: Uid });
const DownloadPayload = z.object({
  videoId: Uid,
  url: z.string(),
  status: z.optional(z.enum(["ready", "inprogress", "error"])),
  percentComplete: z.optional(z.number().check(z.minimum(0), z.maximum(100))),
});

/** The download type a Stream download URL names (`…/downloads/default.mp4`, `…/downloads/audio.m4a`). */
function typeOf(url: string): DownloadType | null {
  if (/\/downloads\/default\.mp4$/.test(url)) return "default";
  if (/\/downloads\/audio\.m4a$/.test(url)) return "audio";
  return null;
}

export type StreamEventOutcome = "applied" | "ignored";

/** Applies one message's event; "ignored" for events the gateway has no use for (captions, live inputs) and for malformed ones, which a retry cannot mend. */
export async function applyStreamEvent(deps: WebhookDeps, body: unknown): Promise<StreamEventOutcome> {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) return "ignored";
  const { type, payload } = envelope.data;
  const at = Math.min(Date.parse(envelope.data.metadata.eventTimestamp), deps.now);
  const kind = type.slice("cf.stream.".length);

  if (kind.startsWith("video_state.")) {
    const video = VideoPayload.safeParse(payload);
    if (!video.success) return "ignored";
    const seen = toVideo(video.data, video.data.id);
    await onVideoProcessed(deps, seen, at);
    // A video that errored or stopped being playable after its downloads were made: its rows go,
    // so that the next request asks Stream and answers from what it says.
    if (!seen.readyToStream) await deleteState(deps.db, seen.uid);
    return "applied";
  }

  if (kind.startsWith("download.")) {
    const download = DownloadPayload.safeParse(payload);
    const downloadType = download.success ? typeOf(download.data.url) : null;
    if (!download.success || downloadType === null) return "ignored";
    const { videoId, status, percentComplete } = download.data;
    await noteDownloadEvent(deps.db, at, status === "ready" || status === "error");
    if (kind === "download.deleted") await deleteState(deps.db, videoId, downloadType);
    else if (status !== undefined) await applyDownloadStatus(deps.db, videoId, downloadType, status, percentComplete ?? (status === "ready" ? 100 : 0), at);
    deps.cache.deletePrefix(`download:${videoId}:`);
    return "applied";
  }
  return "ignored";
}

/**
 * What an event says of a download the gateway tracks (a row it never made is not made here). A
 * finished download is final until deleted, so an older "in progress" never overwrites it.
 */
async function applyDownloadStatus(db: Db, video: string, type: DownloadType, status: Exclude<StateStatus, "pending">, percent: number, at: number): Promise<void> {
  await db
    .prepare(
      `UPDATE download_state SET status = ?3, percent = ?4, refusal = NULL, polls = 0, checked_at = MAX(checked_at, ?5),
         download_bytes = CASE WHEN ?3 = 'ready' THEN download_bytes END,
         size_checked_at = CASE WHEN ?3 = 'ready' THEN size_checked_at ELSE 0 END
       WHERE video_id = ?1 AND type = ?2 AND (?3 <> 'inprogress' OR status IN ('pending', 'inprogress'))`,
    )
    .bind(video, type, status, percent, at)
    .run();
}

async function noteDownloadEvent(db: Db, at: number, finished: boolean): Promise<void> {
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
