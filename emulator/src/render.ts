// The JSON shapes Stream answers with, built from the stored records.
import type { Quirks } from "./quirks";
import type { Settings } from "./settings";
import {
  DOWNLOAD_TYPES,
  currentStage,
  downloadProgress,
  readyToStreamAt,
  videoPercent,
  type DownloadStatus,
  type DownloadType,
  type VideoRecord,
} from "./store";

const iso = (ms: number) => new Date(ms).toISOString();

function downloadFile(type: DownloadType): string {
  return type === "audio" ? "audio.m4a" : "default.mp4";
}

export function renderVideo(video: VideoRecord, settings: Settings, now: number, quirks: Quirks) {
  const { stage } = currentStage(video, now);
  const ready = stage.state === "ready";
  const sparse = quirks.videoFields === "sparse";
  const streamableAt = readyToStreamAt(video, now, quirks);
  const readyToStream = streamableAt !== null || (stage.state === "error" && quirks.erroredReadyToStream);
  const base = `${settings.deliveryBase}/${video.uid}`;
  return {
    uid: video.uid,
    creator: null,
    // Omitted until encoding is complete, like Stream (docs/stream-behaviour.md §2).
    ...(ready ? { thumbnail: `${base}/thumbnails/thumbnail.jpg`, preview: `${base}/watch` } : {}),
    thumbnailTimestampPct: 0,
    ...(sparse && !readyToStream ? {} : { readyToStream }),
    readyToStreamAt: streamableAt === null ? null : iso(streamableAt),
    status: {
      state: stage.state,
      pctComplete: videoPercent(video, now),
      ...(stage.state === "inprogress" || stage.state === "error" ? { step: "encoding" } : {}),
      ...(sparse ? {} : { errorReasonCode: stage.state === "error" ? video.errorReasonCode : "" }),
      errorReasonText: stage.state === "error" ? video.errorReasonText : "",
    },
    meta: sparse && Object.keys(video.meta).length === 0 ? null : video.meta,
    created: iso(video.created),
    modified: iso(video.modified),
    uploaded: iso(video.created),
    uploadExpiry: null,
    scheduledDeletion: null,
    size: video.size,
    duration: ready ? video.duration : -1,
    input: ready ? { width: 320, height: 180 } : { width: -1, height: -1 },
    playback: { hls: `${base}/manifest/video.m3u8`, dash: `${base}/manifest/video.mpd` },
    allowedOrigins: video.allowedOrigins,
    requireSignedURLs: sparse && !video.requireSignedURLs ? null : video.requireSignedURLs,
    maxSizeBytes: null,
    maxDurationSeconds: null,
    watermark: null,
    liveInput: null,
    clippedFrom: null,
    publicDetails: null,
  };
}

export function downloadUrl(video: VideoRecord, type: DownloadType, settings: Settings): string {
  return `${settings.deliveryBase}/${video.uid}/downloads/${downloadFile(type)}`;
}

/** `GET …/downloads`: an object keyed by type, holding only the types that were created. */
export function renderDownloads(video: VideoRecord, settings: Settings, now: number) {
  const result: Partial<Record<DownloadType, { status: DownloadStatus; url: string; percentComplete: number }>> = {};
  for (const type of DOWNLOAD_TYPES) {
    const download = video.downloads[type];
    if (!download) continue;
    const { status, percentComplete } = downloadProgress(download, now);
    result[type] = { status, url: downloadUrl(video, type, settings), percentComplete };
  }
  return result;
}

/** The REST API's downloads: under `downloadFields: sparse`, only what the API reference requires. */
export function renderApiDownloads(video: VideoRecord, settings: Settings, now: number, quirks: Quirks) {
  const downloads = renderDownloads(video, settings, now);
  if (quirks.downloadFields === "documented") return downloads;
  const sparse: Partial<Record<DownloadType, { status?: DownloadStatus; url: string }>> = {};
  for (const type of DOWNLOAD_TYPES) {
    const download = downloads[type];
    if (download) sparse[type] = download.status === "inprogress" ? { url: download.url } : { status: download.status, url: download.url };
  }
  return sparse;
}

/**
 * A video as the Workers binding returns it (workers-types `StreamVideo`): `id` for `uid`, flat
 * playback URLs, and every field those types require present. So `videoFields: sparse` only
 * nulls `requireSignedURLs`, the one such field the binding's types allow to be null.
 */
export function renderBindingVideo(video: VideoRecord, settings: Settings, now: number, quirks: Quirks): StreamVideo {
  const { uid, playback, liveInput, clippedFrom, status, meta, readyToStream, ...rest } = renderVideo(video, settings, now, {
    ...quirks,
    videoFields: "documented",
  });
  return {
    ...rest,
    id: uid,
    thumbnail: `${settings.deliveryBase}/${uid}/thumbnails/thumbnail.jpg`,
    readyToStream: readyToStream === true,
    status: { ...status, errorReasonCode: status.errorReasonCode ?? "" },
    // Stream keeps string values; the control API lets tests store others, passed on as they are.
    meta: (meta ?? {}) as Record<string, string>,
    requireSignedURLs: quirks.videoFields === "sparse" && !video.requireSignedURLs ? null : video.requireSignedURLs,
    hlsPlaybackUrl: playback.hls,
    dashPlaybackUrl: playback.dash,
    liveInputId: liveInput,
    clippedFromId: clippedFrom,
  };
}
