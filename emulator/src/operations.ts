// What a call does to the account, shared by the REST routes (api/) and the Workers binding
// (binding-calls.ts), so that both see one behaviour and differ only in how they answer.
import type { Emulator } from "./emulator";
import { downloadEvent } from "./events/publish";
import { downloadSettlesAt, readyToStreamAt, setVideoState, videoState, type DownloadType, type VideoRecord, type VideoState } from "./store";

/** Why Stream refuses to create a download: neither has a documented REST code (emulator/README.md › Assumptions). */
export type DownloadRefusal = "not-ready" | "too-long";

/** The code of the too-long refusal, invented: Stream's is undocumented. */
export const TOO_LONG_CODE = 10031;

export const REFUSAL_MESSAGES: Record<DownloadRefusal, string> = {
  "not-ready": "the video is not ready to stream yet",
  "too-long": "the video duration is too long to generate a download",
};

/** Starts generating the download unless it exists (creating is idempotent) or Stream would refuse. */
export async function createDownload(
  emulator: Emulator,
  video: VideoRecord,
  type: DownloadType,
  now: number,
): Promise<{ ok: true } | { ok: false; refusal: DownloadRefusal }> {
  // Downloads can only be enabled once the video is ready to view: its state ready, and ready to
  // stream (the two differ under the quirk readyBeforeStreamableSeconds).
  if (readyToStreamAt(video, now, emulator.quirks) === null) return { ok: false, refusal: "not-ready" };
  // Live recordings over 4 hours cannot be downloaded (Stream's changelog).
  if (video.refusesDownloads === true || video.refusesDownloads === type) return { ok: false, refusal: "too-long" };
  if (!video.downloads[type]) {
    const download = { createdAt: now, endsAt: now + video.downloadMs, outcome: video.downloadOutcome[type] };
    video.downloads[type] = { ...download, eventAt: downloadSettlesAt(download) };
    emulator.happened(downloadEvent("download.created", video, type, now, emulator.settings));
    await emulator.save();
  }
  return { ok: true };
}

/** False when the video has no download of that type. */
export async function deleteDownload(emulator: Emulator, video: VideoRecord, type: DownloadType): Promise<boolean> {
  if (!video.downloads[type]) return false;
  emulator.happened(downloadEvent("download.deleted", video, type, emulator.now(), emulator.settings));
  delete video.downloads[type];
  await emulator.save();
  return true;
}

/** What the video edit (`POST …/stream/{uid}`) and the control API may change. */
export interface VideoEdit {
  requireSignedURLs?: boolean;
  allowedOrigins?: string[];
  meta?: Record<string, unknown>;
}

export async function editVideo(emulator: Emulator, video: VideoRecord, edit: VideoEdit): Promise<void> {
  const now = emulator.now();
  if (edit.requireSignedURLs !== undefined) video.requireSignedURLs = edit.requireSignedURLs;
  if (edit.allowedOrigins !== undefined) video.allowedOrigins = edit.allowedOrigins;
  if (edit.meta !== undefined) video.meta = edit.meta;
  video.modified = now;
  emulator.videoUpdated(video, videoState(video, now) === "ready");
  await emulator.save();
}

/** Sets the processing state now (control API); leaving `ready` is an update of a ready video. */
export async function changeVideoState(emulator: Emulator, video: VideoRecord, state: VideoState): Promise<void> {
  const now = emulator.now();
  const wasReady = videoState(video, now) === "ready";
  setVideoState(video, state, now);
  emulator.videoUpdated(video, wasReady && state !== "ready");
  await emulator.save();
}

export interface VideoQuery {
  /** Only videos in this processing state. */
  status?: string;
  /** Only videos whose name contains this, ignoring case. */
  search?: string;
  /** Oldest first instead of newest first. */
  asc?: boolean;
}

/** Stream lists up to this many videos from a single request (its API reference › List videos). */
export const LIST_LIMIT = 1000;

export function listVideos(emulator: Emulator, query: VideoQuery): VideoRecord[] {
  const now = emulator.now();
  const { status, search, asc } = query;
  return Object.values(emulator.state.videos)
    .filter((v) => !status || videoState(v, now) === status)
    .filter((v) => !search || String(v.meta.name ?? "").toLowerCase().includes(search.toLowerCase()))
    .sort((a, b) => (asc ? a.created - b.created : b.created - a.created))
    .slice(0, LIST_LIMIT);
}
