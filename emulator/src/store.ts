// The emulated account's state. Processing and download generation are timelines computed from
// timestamps on every read, so that no timer has to run for a state to move on; only what goes
// out (webhooks, published events) needs an alarm (see account.ts).
import type { StreamEvent, StreamEventType } from "./events/catalog";
import type { Quirks } from "./quirks";

/**
 * Processing states. `live-inprogress` (the SDK's state list) is a live input's recording still
 * being made: not ready, so no downloads, until it moves on.
 */
export const VIDEO_STATES = ["queued", "inprogress", "live-inprogress", "ready", "error"] as const;
export type VideoState = (typeof VIDEO_STATES)[number];
export type Outcome = "ready" | "error";
export type DownloadType = "default" | "audio";
export type DownloadStatus = "inprogress" | "ready" | "error";

export const DOWNLOAD_TYPES: readonly DownloadType[] = ["default", "audio"];

/** A state that starts at `at` (ms since epoch). */
export interface Stage {
  state: VideoState;
  at: number;
}

export interface VideoRecord {
  uid: string;
  meta: Record<string, unknown>;
  duration: number;
  size: number;
  requireSignedURLs: boolean;
  allowedOrigins: string[];
  created: number;
  modified: number;
  /** Sorted by `at`; the current state is the last stage that has started. */
  stages: Stage[];
  /** Time of the terminal stage whose webhook is still owed, or null. */
  notifyAt: number | null;
  errorReasonCode: string;
  errorReasonText: string;
  /** How long a new download of this video takes, in ms. */
  downloadMs: number;
  /** How new downloads end; "error" is the injected failure. */
  downloadOutcome: Record<DownloadType, Outcome>;
  downloads: Partial<Record<DownloadType, DownloadRecord>>;
  /** Stream refuses to make downloads of it (a live recording over 4 hours): every type, or one. */
  refusesDownloads?: boolean | DownloadType;
}

export interface DownloadRecord {
  createdAt: number;
  /** When generation ends, with `outcome`. */
  endsAt: number;
  outcome: Outcome;
  /**
   * When its `download.ready` or `download.errored` event is owed; absent once it is published,
   * and for downloads the control API seeded as already existing.
   */
  eventAt?: number;
}

export interface KeyRecord {
  id: string;
  created: number;
  /** Public part only: the emulator never needs a customer's private key after creation. */
  publicJwk: JsonWebKey;
  revoked: boolean;
}

export interface WebhookSubscription {
  notificationUrl: string;
  secret: string;
  modified: number;
}

/** The key that signs tokens from `POST /:uid/token` when the caller brings none. */
export interface PlatformKey {
  id: string;
  privateJwk: JsonWebKey;
}

/** A public JWK Set, as an identity provider serves it. */
export interface Jwks {
  keys: Record<string, unknown>[];
}

/** An event subscription (Queues' REST API) of source `stream`, always to the emulator's one queue. */
export interface EventSubscription {
  id: string;
  name: string;
  enabled: boolean;
  /** Without the `cf.stream.` prefix, as the API takes them. */
  events: StreamEventType[];
  queueId: string;
  created: number;
  modified: number;
}

export interface AccountState {
  videos: Record<string, VideoRecord>;
  keys: Record<string, KeyRecord>;
  webhook: WebhookSubscription | null;
  platformKey: PlatformKey | null;
  /**
   * The identity-provider stand-in of the control API (not Stream), kept with the account so
   * that it survives the Durable Object's eviction. Absent from states saved before it was.
   */
  jwks?: Jwks;
  /** Absent from states saved before event subscriptions were emulated. */
  eventSubscriptions?: Record<string, EventSubscription>;
  /** Events that happened and that the alarm has yet to publish, oldest first. */
  outbox?: StreamEvent[];
}

export function emptyState(): AccountState {
  return { videos: {}, keys: {}, webhook: null, platformKey: null, jwks: { keys: [] }, eventSubscriptions: {}, outbox: [] };
}

export function currentStage(video: VideoRecord, now: number): { stage: Stage; next: Stage | undefined } {
  let index = 0;
  video.stages.forEach((stage, i) => {
    if (stage.at <= now) index = i;
  });
  const stage = video.stages[index];
  if (!stage) throw new Error(`video ${video.uid} has no stages`);
  return { stage, next: video.stages[index + 1] };
}

export function videoState(video: VideoRecord, now: number): VideoState {
  return currentStage(video, now).stage.state;
}

/**
 * When the video became ready to stream, or null while it is not: its `ready` state, and under
 * the quirk `readyBeforeStreamableSeconds` that many seconds after it.
 */
export function readyToStreamAt(video: VideoRecord, now: number, quirks: Pick<Quirks, "readyBeforeStreamableSeconds">): number | null {
  const { stage } = currentStage(video, now);
  if (stage.state !== "ready") return null;
  const at = stage.at + quirks.readyBeforeStreamableSeconds * 1000;
  return now >= at ? at : null;
}

/** Stream reports `pctComplete` as a string with six decimals (docs/stream-behaviour.md §2). */
export function videoPercent(video: VideoRecord, now: number): string {
  const { stage, next } = currentStage(video, now);
  let pct = 0;
  if (stage.state === "ready") pct = 100;
  else if (stage.state === "inprogress" && next) pct = ((now - stage.at) / (next.at - stage.at)) * 100;
  return Math.min(100, Math.max(0, pct)).toFixed(6);
}

/** When a download stops being in progress. */
export function downloadSettlesAt(download: DownloadRecord): number {
  // An injected failure strikes halfway, so clients see progress first and then the error.
  return download.outcome === "error" ? download.createdAt + (download.endsAt - download.createdAt) / 2 : download.endsAt;
}

export function downloadProgress(
  download: DownloadRecord,
  now: number,
): { status: DownloadStatus; percentComplete: number } {
  if (now >= downloadSettlesAt(download)) {
    return download.outcome === "error" ? { status: "error", percentComplete: 50 } : { status: "ready", percentComplete: 100 };
  }
  const span = download.endsAt - download.createdAt;
  const pct = span <= 0 ? 100 : ((now - download.createdAt) / span) * 100;
  return { status: "inprogress", percentComplete: Math.floor(pct * 10) / 10 };
}

/** Replaces the timeline with one state that holds from now on. */
export function setVideoState(video: VideoRecord, state: VideoState, now: number): void {
  const before = videoState(video, now);
  video.stages = [{ state, at: now }];
  video.modified = now;
  // Stream calls the webhook when processing finishes, so only a move out of processing owes one.
  if (isTerminal(state) && !isTerminal(before)) video.notifyAt = now;
  else if (!isTerminal(state)) video.notifyAt = null;
}

/** Starts the next stage of the timeline now, as if processing had got there. */
export function advanceVideo(video: VideoRecord, now: number): VideoState {
  const { next } = currentStage(video, now);
  if (!next) return videoState(video, now);
  const shift = next.at - now;
  video.stages = video.stages.map((stage) => (stage.at > now ? { ...stage, at: stage.at - shift } : stage));
  if (video.notifyAt !== null) video.notifyAt -= shift;
  video.modified = now;
  return next.state;
}

export function isTerminal(state: VideoState): boolean {
  return state === "ready" || state === "error";
}
