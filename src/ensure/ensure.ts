// Step 3: make sure Stream has generated the download. `download_state` is a cache of what
// Stream said, by its answers and its events (stream-events.ts), trusted for READY_TTL_SECONDS and
// then revalidated in the background; ready state is also kept in isolate memory, so a ready
// video's download costs no Stream call and, on a warm isolate, no D1 read. What Stream said of
// the video itself is in the catalogue (catalogue.ts). Everything that asks Stream goes through the
// row's poll lease: one call per video and type per interval, however many users wait, and while
// Stream's events are live only a slow safety check.
import type { Config } from "../config/config";
import {
  claimNewState,
  deleteState,
  readState,
  saveState,
  takePollLease,
  type DownloadState,
  type Refusal,
} from "./download-state";
import type { Db } from "../storage/d1";
import type { MemoryCache } from "../storage/memory-cache";
import { Problem, errorText } from "../problems";
import type { DownloadType } from "../config/config";
import { CreateRefusedError, type StreamApi, type StreamVideo } from "../stream/client";
import { StreamCallError } from "../stream/errors";
import { catalogued, forgetCatalogued, recordVideo } from "./catalogue";
import { eventsLive, noteMissedCompletion, SAFETY_POLL_SECONDS } from "./event-pacing";

export interface EnsureDeps {
  config: Config;
  db: Db;
  cache: MemoryCache;
  stream: StreamApi;
  now: number;
  waitUntil(promise: Promise<unknown>): void;
}

export type Ensured =
  | { kind: "ready"; videoName: string | null }
  /** `state`: the row as this answer read it (null when another request is creating it), for the share page. */
  | { kind: "preparing"; percent: number; retryAfter: number; state: DownloadState | null }
  /** Only without `create`: nobody has asked for this download yet. */
  | { kind: "absent" };

const readyKey = (video: string, type: DownloadType) => `download:${video}:${type}:ready`;
const absentKey = (video: string, type: DownloadType) => `download:${video}:${type}:absent`;
const unknownKey = (video: string) => `download:${video}:unknown`;
const detailsKey = (video: string) => `download:${video}:details`;
const downloadsKey = (video: string) => `download:${video}:downloads`;

/** How long one answer of Stream's is shared by the requests of this isolate (both types, many users). */
const SHARED_ANSWER_MS = 1000;

/** Forgets what this isolate knows of a video's downloads (its details, "unknown", ready). */
export function forgetDownloads(cache: MemoryCache, video: string): void {
  cache.deletePrefix(`download:${video}:`);
}

/** Drops what the gateway believes about the video, in D1 and here (admin refresh): the next request asks Stream. */
export async function forgetVideo(deps: EnsureDeps, video: string): Promise<void> {
  await deleteState(deps.db, video);
  await forgetCatalogued(deps.db, video);
  forgetDownloads(deps.cache, video);
}

/** Seconds between polls: POLL_INTERVAL_SECONDS, backing off to 30 while a download stays in progress. */
export function pollInterval(config: Config, polls: number): number {
  const base = config.pollIntervalSeconds;
  return Math.max(base, Math.min(30, base * 2 ** Math.max(0, polls - 2)));
}

function refusalProblem(refusal: Refusal): Problem {
  switch (refusal) {
    case "video-not-ready":
      return new Problem("video-not-ready", "The video is still processing; try again when it is ready to stream.");
    case "video-not-protected":
      return new Problem(
        "video-not-protected",
        "The video does not require signed URLs, so its download would be public; set requireSignedURLs on it.",
      );
    case "download-failed":
      return new Problem("download-failed", "Stream could not process this video, so it has no download.");
    case "video-not-downloadable":
      return new Problem(
        "video-not-downloadable",
        "Stream refuses to make a download of this video (for example, live recordings longer than 4 hours cannot be downloaded).",
      );
    case "not-entitled":
      return new Problem("not-entitled", "You are not entitled to download this video.");
  }
}

/** Whether Stream can make a download of this video for us at all. */
function refusalFor(video: StreamVideo, config: Config): Refusal | null {
  if (video.state === "error") return "download-failed";
  if (!video.readyToStream) return "video-not-ready";
  if (!video.requireSignedURLs && !config.allowPublicVideos) return "video-not-protected";
  return null;
}

const failed = () => new Problem("download-failed", "Stream could not generate this download.");

/** `live`: whether Stream's events are live, when the caller has asked already (`paced`). */
async function answer(deps: EnsureDeps, state: DownloadState, live?: boolean): Promise<Ensured> {
  switch (state.status) {
    case "ready":
      deps.cache.set(readyKey(state.video, state.type), state.videoName, deps.config.memoryCacheSeconds * 1000, deps.now);
      return { kind: "ready", videoName: state.videoName };
    case "error":
      throw failed();
    default:
      if (state.refusal) throw refusalProblem(state.refusal);
      // While Stream's events are live, coming back costs a D1 read, not a Stream call.
      return { kind: "preparing", percent: state.percent, retryAfter: (live ?? (await paced(deps, state))) ? 1 : pollInterval(deps.config, state.polls), state };
  }
}

/**
 * One Stream answer shared by every request of this isolate that asks the same within a moment
 * (the status route's two types, a crowd waiting on one video): one API call, not one each.
 */
function shared<T>(deps: EnsureDeps, key: string, ask: () => Promise<T>): Promise<T> {
  const pending = deps.cache.get<Promise<T>>(key, deps.now);
  if (pending !== undefined) return pending;
  const asked = ask();
  deps.cache.set(key, asked, SHARED_ANSWER_MS, deps.now);
  asked.catch(() => deps.cache.delete(key));
  return asked;
}

/** Whether this download waits for Stream's events instead of polls (stream-events.ts). */
const paced = (deps: EnsureDeps, state: DownloadState): Promise<boolean> | false => state.status === "inprogress" && eventsLive(deps.db, deps.cache, deps.now);

/**
 * The video as Stream last said: from the catalogue where it may answer (a video ready to stream,
 * a UID Stream does not know), else one look-up shared by this isolate's requests, recorded there.
 */
function videoOf(deps: EnsureDeps, uid: string): Promise<StreamVideo | null> {
  return shared(deps, detailsKey(uid), async () => {
    const known = await catalogued(deps.db, uid, deps.now, deps.config.readyTtlSeconds * 1000);
    if (known !== null) return known.kind === "video" ? known.video : null;
    const video = await deps.stream.getVideo(uid);
    await recordVideo(deps.db, uid, video, deps.now);
    return video;
  });
}

/**
 * An unknown video leaves no download row; the catalogue remembers Stream's answer for one budget
 * window (catalogue.ts), and this isolate for MEMORY_CACHE_SECONDS, so asking again costs no
 * Stream call. Look-ups are charged to the asker's share, so random UIDs cannot fill either.
 */
async function forgetUnknown(deps: EnsureDeps, state: DownloadState): Promise<never> {
  await deleteState(deps.db, state.video, state.type);
  deps.cache.set(unknownKey(state.video), true, deps.config.memoryCacheSeconds * 1000, deps.now);
  throw refusalProblem("not-entitled");
}

/**
 * Asks Stream, holding the lease: checks the video (new rows and refusals), then reads the
 * download and, when `create` allows and it is missing, creates it.
 */
async function askStream(deps: EnsureDeps, state: DownloadState, create: boolean): Promise<DownloadState> {
  const next: DownloadState = { ...state, checkedAt: deps.now, polls: state.polls + 1, refusal: null };
  if (state.status === "pending") {
    const video = await videoOf(deps, state.video);
    if (video === null) return forgetUnknown(deps, state);
    const refusal = refusalFor(video, deps.config);
    if (refusal) {
      await saveState(deps.db, { ...next, refusal });
      throw refusalProblem(refusal);
    }
    next.videoName = video.name;
    next.videoDuration = video.duration;
  }

  // Stream's create is idempotent and answers like GET, so a new download costs one call.
  const download =
    create && state.status === "pending"
      ? (await createDownload(deps, next))[state.type]
      : (await shared(deps, downloadsKey(state.video), () => deps.stream.getDownloads(state.video)))?.[state.type];
  if (!download) {
    // Deleted at Stream (or never made, on a read-only status check): start over next time. A
    // read-only look cannot tell whether a refusal still stands, so it keeps it.
    const restarted: DownloadState = { ...next, status: "pending", percent: 0, refusal: create ? null : state.refusal };
    await saveState(deps.db, restarted);
    return restarted;
  }
  const saved: DownloadState = { ...next, status: download.status, percent: download.percentComplete };
  if (download.status !== "inprogress") saved.polls = 0;
  await saveState(deps.db, saved);
  return saved;
}

/**
 * Creates the download. Stream documents no REST code for its refusals, so any 4xx is classified
 * from a fresh look at the video: gone, errored, not ready (or still encoding), not protected,
 * or, for a ready video, one Stream will not make downloads of (a live recording over 4 hours).
 * That last refusal is rechecked once after the poll interval (a 4xx may be passing) and, when it
 * stands, remembered for READY_TTL_SECONDS.
 */
async function createDownload(deps: EnsureDeps, state: DownloadState) {
  try {
    return await deps.stream.createDownload(state.video, state.type);
  } catch (error) {
    if (!(error instanceof CreateRefusedError)) throw error;
    console.warn(error.message);
    deps.cache.delete(detailsKey(state.video));
    const video = await deps.stream.getVideo(state.video);
    await recordVideo(deps.db, state.video, video, deps.now);
    if (video === null) return forgetUnknown(deps, state);
    const refusal = refusalFor(video, deps.config) ?? (video.state === "ready" ? "video-not-downloadable" : "video-not-ready");
    await saveState(deps.db, { ...state, status: "pending", refusal });
    throw refusalProblem(refusal);
  }
}

/** How long a refusal stands before Stream is asked again: one that stood twice far longer than a wait. */
function recheckAfterMs(config: Config, state: DownloadState): number {
  const lasting = state.refusal === "video-not-downloadable" && state.polls >= 2;
  return (lasting ? config.readyTtlSeconds : pollInterval(config, state.polls)) * 1000;
}

/**
 * After a first look at Stream failed (an outage, the API budget spent): the row it claimed goes
 * again unless it now records a refusal, so that nothing is kept of a video Stream never
 * confirmed, and the next request for it asks again instead of being told it is in progress.
 */
async function dropUnconfirmed(deps: EnsureDeps, video: string, type: DownloadType): Promise<void> {
  try {
    const left = await readState(deps.db, video, type);
    if (left?.status === "pending" && left.refusal === null) await deleteState(deps.db, video, type);
  } catch (error) {
    console.error("dropping an unconfirmed download state failed", video, type, errorText(error));
  }
}

/** Background revalidation of a ready row past READY_TTL_SECONDS; the user is served meanwhile. */
async function revalidate(deps: EnsureDeps, state: DownloadState): Promise<void> {
  try {
    await askStream(deps, { ...state, status: "pending" }, false);
  } catch (error) {
    console.error("revalidating download state failed", state.video, state.type, errorText(error));
  }
}

/**
 * Read-only (HEAD, the status route) and without a row: one read-only look at Stream, under the
 * same claim as a first request. A download found there is cached like any other; a missing one
 * is remembered in isolate memory for MEMORY_CACHE_SECONDS, so polling a status page does not ask
 * Stream each time.
 */
async function lookUp(deps: EnsureDeps, video: string, type: DownloadType): Promise<Ensured> {
  if (deps.cache.get<boolean>(absentKey(video, type), deps.now)) return { kind: "absent" };
  if (deps.cache.get<boolean>(unknownKey(video), deps.now)) throw refusalProblem("not-entitled");
  const claimed = await claimNewState(deps.db, video, type, deps.now);
  if (!claimed) {
    const current = await readState(deps.db, video, type);
    return current ? answer(deps, current) : { kind: "absent" };
  }
  let found: DownloadState;
  try {
    found = await askStream(deps, claimed, false);
  } catch (error) {
    // A refusal stays recorded on the row; an outage leaves nothing behind to misreport.
    await dropUnconfirmed(deps, video, type);
    throw error;
  }
  if (found.status !== "pending") return answer(deps, found);
  await deleteState(deps.db, video, type);
  deps.cache.set(absentKey(video, type), true, deps.config.memoryCacheSeconds * 1000, deps.now);
  return { kind: "absent" };
}

/** Step 3: the download is ready, or being made at Stream (asked for now when it was missing). */
export function ensureDownload(deps: EnsureDeps, video: string, type: DownloadType): Promise<Exclude<Ensured, { kind: "absent" }>> {
  return resolve(deps, video, type, { create: true });
}

/**
 * The same look, read-only (HEAD, the status route): nothing is created at Stream, so a download
 * nobody has asked for yet is "absent".
 */
export function lookUpDownload(deps: EnsureDeps, video: string, type: DownloadType): Promise<Ensured> {
  return resolve(deps, video, type, { create: false });
}

function resolve(deps: EnsureDeps, video: string, type: DownloadType, options: { create: true }): Promise<Exclude<Ensured, { kind: "absent" }>>;
function resolve(deps: EnsureDeps, video: string, type: DownloadType, options: { create: false }): Promise<Ensured>;
async function resolve(deps: EnsureDeps, video: string, type: DownloadType, options: { create: boolean }): Promise<Ensured> {
  const cachedName = deps.cache.get<string | null>(readyKey(video, type), deps.now);
  if (cachedName !== undefined) return { kind: "ready", videoName: cachedName };

  const state = await readState(deps.db, video, type);
  if (!state) {
    if (!options.create) return lookUp(deps, video, type);
    // An unknown video looks like one the user may not have (no existence oracle).
    if (deps.cache.get<boolean>(unknownKey(video), deps.now)) throw refusalProblem("not-entitled");
    deps.cache.delete(absentKey(video, type));
    const claimed = await claimNewState(deps.db, video, type, deps.now);
    if (!claimed) {
      const current = await readState(deps.db, video, type);
      return current ? answer(deps, current) : { kind: "preparing", percent: 0, retryAfter: 1, state: null };
    }
    try {
      return answer(deps, await askStream(deps, claimed, true));
    } catch (error) {
      await dropUnconfirmed(deps, video, type);
      throw error;
    }
  }

  if (state.status === "ready") {
    const stale = deps.now - state.checkedAt >= deps.config.readyTtlSeconds * 1000;
    if (stale) {
      const leased = await takePollLease(deps.db, video, type, deps.now, deps.now - deps.config.pollIntervalSeconds * 1000);
      if (leased) deps.waitUntil(revalidate(deps, leased));
    }
    return answer(deps, state);
  }
  if (state.status === "error") return answer(deps, state);

  const live = await paced(deps, state);
  const before = deps.now - (live ? SAFETY_POLL_SECONDS * 1000 : recheckAfterMs(deps.config, state));
  // Most waiting users come before the lease is due: they cost a read, not a write.
  if (state.polledAt > before) return answer(deps, state, live);
  const leased = await takePollLease(deps.db, video, type, deps.now, before);
  if (!leased) return answer(deps, state, live);
  const asked = await askStream(deps, leased, options.create);
  if (live && asked.status === "ready") await noteMissedCompletion(deps.db, deps.cache, deps.now);
  return answer(deps, asked);
}

export type TypeStatus =
  | { status: "ready" | "none" | "error"; percentComplete: number }
  | { status: "inprogress"; percentComplete: number; retryAfter: number }
  /** Stream refuses this type (the other may still work): the problem type says why. */
  | { status: "unavailable"; percentComplete: 0; reason: "video-not-downloadable" };

/**
 * The status route: both types' state, read-only (nothing is created at Stream). The two types
 * share one video lookup and one downloads read (see `shared`), so a fresh video costs at most
 * two Stream calls, and a known one none.
 */
export async function downloadStatus(deps: EnsureDeps, video: string): Promise<Record<DownloadType, TypeStatus>> {
  const status = async (type: DownloadType): Promise<TypeStatus> => {
    try {
      const ensured = await lookUpDownload(deps, video, type);
      if (ensured.kind === "ready") return { status: "ready", percentComplete: 100 };
      if (ensured.kind === "absent") return { status: "none", percentComplete: 0 };
      return { status: "inprogress", percentComplete: ensured.percent, retryAfter: ensured.retryAfter };
    } catch (error) {
      // Refusals of the whole video (unknown, not ready, not protected) answer the route itself.
      if (error instanceof Problem && error.type === "download-failed") return { status: "error", percentComplete: 0 };
      if (error instanceof StreamCallError && error.failure.kind === "refused") return { status: "error", percentComplete: 0 };
      if (error instanceof Problem && error.type === "video-not-downloadable") return { status: "unavailable", percentComplete: 0, reason: error.type };
      throw error;
    }
  };
  const [defaultStatus, audioStatus] = await Promise.all([status("default"), status("audio")]);
  return { default: defaultStatus, audio: audioStatus };
}
