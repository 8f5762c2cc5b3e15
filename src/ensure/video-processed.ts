// What the gateway does when Stream reports a video's state, by its webhook or its events
// (docs/http-api.md): record it in the catalogue and, once the video is ready, in the download_state
// cache, and with PREPARE_DOWNLOADS create the downloads at once so that the first user does not
// wait for Stream to generate them.
import type { Config } from "../config/config";
import { isBlocked } from "../entitle/blocked-table";
import { claimNewState, readState, saveState, takePollLease, unfinishedStates, type DownloadState } from "./download-state";
import type { Db } from "../storage/d1";
import type { MemoryCache } from "../storage/memory-cache";
import { clearNotReadyRefusals } from "./video-readiness";
import type { DownloadType } from "../config/config";
import { CreateRefusedError, type StreamApi, type StreamVideo } from "../stream/client";
import { recordVideo } from "./catalogue";
import { Problem, errorText } from "../problems";
import { StreamCallError } from "../stream/errors";
import { ensureDownload, forgetDownloads, pollInterval, type EnsureDeps } from "./ensure";

export interface WebhookDeps {
  config: Config;
  /** The primary, not a session: everything here writes. */
  db: Db;
  stream: StreamApi;
  cache: MemoryCache;
  now: number;
}

/** Per download type: created at Stream now, left alone, or failed (the row stays 'pending'). */
export type Preparation = "created" | "skipped" | "failed";

/** `at`: when Stream said so (an event's timestamp), so that older news never overwrites newer. */
export async function onVideoProcessed(deps: WebhookDeps, video: StreamVideo, at: number): Promise<Preparation[]> {
  await recordVideo(deps.db, video.uid, video, at);
  // A failed video changes nothing more: the next lease holder asks Stream anyway.
  if (!video.readyToStream) return [];
  await clearNotReadyRefusals(deps.db, video.uid);
  // What this isolate remembers of the video (its details, "unknown") is stale from now on.
  forgetDownloads(deps.cache, video.uid);
  if (deps.config.prepareDownloads.length === 0) return [];
  // Same gates as the request path: a public video's MP4 would be public, and a blocked video is
  // served to nobody, so neither is worth having Stream generate one.
  if (!video.requireSignedURLs && !deps.config.allowPublicVideos) return [];
  if (await isBlocked(deps.db, video.uid)) return [];
  return Promise.all(deps.config.prepareDownloads.map((type) => prepare(deps, video, type)));
}

/**
 * The right to call Stream for this download, or null when it is not ours to take. A new row is
 * claimed (a redelivered webhook finds it and stops there); an existing row only while it is still
 * 'pending' (refused before, or an earlier preparation failed) and its poll lease is free, so
 * redeliveries, users and other isolates never ask Stream for it at the same time. Between the
 * read and the lease a user may have moved the row on; Stream's create is idempotent, so the worst
 * case is one redundant call whose answer is still the truth.
 */
async function takeDownload(deps: WebhookDeps, video: string, type: DownloadType): Promise<DownloadState | null> {
  const claimed = await claimNewState(deps.db, video, type, deps.now);
  if (claimed) return claimed;
  const current = await readState(deps.db, video, type);
  if (current?.status !== "pending") return null;
  const before = deps.now - pollInterval(deps.config, current.polls) * 1000;
  return takePollLease(deps.db, video, type, deps.now, before);
}

async function prepare(deps: WebhookDeps, video: StreamVideo, type: DownloadType): Promise<Preparation> {
  const state = await takeDownload(deps, video.uid, type);
  if (!state) return "skipped";
  try {
    const download = (await deps.stream.createDownload(video.uid, type))[type];
    if (!download) throw new Error(`Stream's answer to creating the ${type} download lacks it`);
    await saveState(deps.db, {
      ...state,
      status: download.status,
      percent: download.percentComplete,
      refusal: null,
      // The request path reads the name only for 'pending' rows, so it must be stored here.
      videoName: video.name ?? state.videoName,
      videoDuration: video.duration ?? state.videoDuration,
      checkedAt: deps.now,
      polls: 0,
    });
    return "created";
  } catch (error) {
    // No write: the row stays 'pending' with the lease just taken (polled_at = now), which is
    // exactly what a request path that could not reach Stream leaves. After the poll interval a
    // user's request, or Stream's redelivery of this webhook, takes the lease and tries again.
    console.error("preparing download failed", video.uid, type, errorText(error));
    // Refused by Stream (deleted since, or not downloadable): the request path classifies it when
    // someone asks; retrying would only ask again.
    return error instanceof CreateRefusedError ? "skipped" : "failed";
  }
}

/**
 * Stream documents no webhook redelivery, so nothing may depend on it: the cron asks again for
 * the PREPARE_DOWNLOADS downloads that a webhook (or a request during an outage) left unfinished,
 * through the request path's own step, a few per run (each costs Stream API calls).
 */
export async function retryPreparations(deps: EnsureDeps, limit: number): Promise<{ retried: number; failed: number }> {
  if (deps.config.prepareDownloads.length === 0) return { retried: 0, failed: 0 };
  const before = deps.now - deps.config.pollIntervalSeconds * 1000;
  const unfinished = await unfinishedStates(deps.db, deps.config.prepareDownloads, before, limit);
  let failed = 0;
  for (const { video, type } of unfinished) {
    try {
      await ensureDownload(deps, video, type);
    } catch (error) {
      // A refusal is now recorded on the row; Stream not answering waits for the next run.
      if (error instanceof StreamCallError && error.passing) failed++;
      else if (!(error instanceof Problem) && !(error instanceof StreamCallError)) throw error;
    }
  }
  return { retried: unfinished.length, failed };
}
