// Creating video records, for the seeded demo account and the control API alike.
import { MEDIA, VIDEO_DURATION_SECONDS } from "./media";
import type { DownloadType, Outcome, Stage, VideoRecord, VideoState } from "./store";

export interface NewVideo {
  uid?: string;
  name?: string;
  requireSignedURLs?: boolean;
  allowedOrigins?: string[];
  /** Where processing starts; queued and inprogress move on to `outcome` over `processingMs`. */
  state?: VideoState;
  processingMs: number;
  outcome?: Outcome;
  errorReasonCode?: string;
  downloadMs: number;
  downloadOutcome?: Partial<Record<DownloadType, Outcome>>;
  /** Downloads that already exist: "ready" ones finished long ago, "inprogress" ones start now. */
  downloads?: Partial<Record<DownloadType, "ready" | "inprogress">>;
  refusesDownloads?: boolean | DownloadType;
}

export function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function timeline(state: VideoState, outcome: Outcome, processingMs: number, now: number): Stage[] {
  switch (state) {
    case "queued":
      return [
        { state: "queued", at: now },
        { state: "inprogress", at: now + processingMs / 4 },
        { state: outcome, at: now + processingMs },
      ];
    case "inprogress":
      return [
        { state: "inprogress", at: now },
        { state: outcome, at: now + processingMs },
      ];
    default:
      return [{ state, at: now }];
  }
}

const ERROR_TEXT: Record<string, string> = {
  ERR_NON_VIDEO: "The upload is not a video.",
  ERR_DURATION_EXCEED_CONSTRAINT: "The video is longer than the allowed duration.",
  ERR_FETCH_ORIGIN_ERROR: "The video could not be fetched from its origin.",
  ERR_MALFORMED_VIDEO: "The video is malformed and cannot be encoded.",
  ERR_DURATION_TOO_SHORT: "The video is too short.",
  ERR_UNKNOWN: "An unknown error occurred while encoding.",
};

export function newVideo(input: NewVideo, now: number): VideoRecord {
  const state = input.state ?? "ready";
  const outcome = input.outcome ?? "ready";
  const stages = timeline(state, outcome, input.processingMs, now);
  const errorReasonCode = input.errorReasonCode ?? "ERR_MALFORMED_VIDEO";
  const video: VideoRecord = {
    uid: input.uid ?? randomHex(16),
    meta: input.name ? { name: input.name } : {},
    duration: VIDEO_DURATION_SECONDS,
    size: MEDIA.default.bytes.length,
    requireSignedURLs: input.requireSignedURLs ?? false,
    allowedOrigins: input.allowedOrigins ?? [],
    created: now,
    modified: now,
    stages,
    notifyAt: stages.length > 1 ? (stages[stages.length - 1]?.at ?? null) : null,
    errorReasonCode,
    errorReasonText: ERROR_TEXT[errorReasonCode] ?? ERROR_TEXT.ERR_UNKNOWN ?? "",
    downloadMs: input.downloadMs,
    downloadOutcome: { default: "ready", audio: "ready", ...input.downloadOutcome },
    downloads: {},
    ...(input.refusesDownloads ? { refusesDownloads: input.refusesDownloads } : {}),
  };
  for (const [type, status] of Object.entries(input.downloads ?? {}) as [DownloadType, string][]) {
    const createdAt = status === "ready" ? now - input.downloadMs - 1 : now;
    video.downloads[type] = { createdAt, endsAt: createdAt + input.downloadMs, outcome: video.downloadOutcome[type] };
  }
  return video;
}
