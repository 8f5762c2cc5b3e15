// Stream's event subscriptions (docs/stream-behaviour.md › Events): Stream publishes its videos'
// and downloads' events to a Cloudflare Queue that this Worker consumes, so the gateway learns at
// once what it would otherwise poll for. Videos: `video_state.ready`, `.updated`, `.errored`
// (payload: the video, with `id` for its UID). Downloads: `download.created` and `.deleted` are
// documented; the events that say a download finished (`download.ready`, `.errored`) are inferred
// from Stream's count of its event types, so any `download.*` event carrying a status is applied,
// and the gateway checks that they really come (event-pacing.ts) before it stops polling.
import * as z from "../input/zod";
import type { DownloadType } from "../config/config";
import type { Db } from "../storage/d1";
import { UID_PATTERN } from "../input/validate";
import { toVideo, Video } from "../stream/client";
import { onVideoProcessed, type WebhookDeps } from "./video-processed";
import { deleteState, type StateStatus } from "./download-state";
import { noteDownloadEvent } from "./event-pacing";


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

type StreamEventOutcome = "applied" | "ignored";

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
