// The typed client for the Stream API calls of the gateway over REST: video details and MP4/M4A
// downloads (emulator/README.md › Assumptions). Every call has a timeout, at most two jittered
// retries on outages, and a 429 pauses every call of the client until its Retry-After. The same
// calls through the Stream Workers binding are binding-client.ts; both answer as `StreamApi`.
import * as z from "../input/zod";
import { tryJson } from "../input/validate";
import type { Config, DownloadType } from "../config/config";
import { type CallGate, LOCKOUT_SECONDS, OUTAGE, unreadable } from "./call-gate";
import { StreamCallError } from "./errors";

type RestConfig = Extract<Config["stream"]["api"], { kind: "rest" }> & { accountId: string; timeoutMs: number };

const DOWNLOAD_STATUSES = ["ready", "inprogress", "error"] as const;
export type DownloadStatus = (typeof DOWNLOAD_STATUSES)[number];
export interface StreamDownload {
  status: DownloadStatus;
  percentComplete: number;
}
export type StreamDownloads = Partial<Record<DownloadType, StreamDownload>>;
export interface StreamVideo {
  uid: string;
  /** Playable, as `readyStreamable` decides it from the state Stream reports. */
  readyToStream: boolean;
  /** `status.state`, or "unknown" when Stream left it out. */
  state: string;
  errorReasonCode: string | null;
  /** Null or missing counts as false: a video not known to be protected is not served as one. */
  requireSignedURLs: boolean;
  name: string | null;
  /** Seconds, or null while unknown. */
  duration: number | null;
}

/**
 * Whether a video can be played (and so have downloads): Stream's webhooks page says
 * `readyToStream` must be true besides the state, so both must say so. An errored video is not,
 * whatever its flag (an older error example showed `readyToStream: true`); a missing flag is not
 * ready (the SDK: absent while not ready); a state other than `ready` (`inprogress`,
 * `live-inprogress`, …) is not, even with the flag, which Stream sets once one quality level is
 * encoded. A missing state leaves the flag to decide (docs/stream-behaviour.md §2).
 */
export function readyStreamable(video: { state?: string | null; readyToStream?: boolean | null }): boolean {
  const state = video.state ?? null;
  return video.readyToStream === true && (state === null || state === "ready");
}

/** The Stream calls the gateway makes, over REST (this file) or the Workers binding (binding-client.ts). */
export interface StreamApi {
  /** Null when Stream does not know the video. */
  getVideo(uid: string): Promise<StreamVideo | null>;
  /**
   * At most 1,000 of the account's videos, as Stream lists them: the newest (the catalogue's sync)
   * or the oldest (the demo page, its fixtures first); the binding takes no order and lists the
   * newest first. The download path never lists.
   */
  listVideos(first: "newest" | "oldest"): Promise<StreamVideo[]>;
  /** Null when Stream does not know the video (or, through the binding, its downloads). */
  getDownloads(uid: string): Promise<StreamDownloads | null>;
  /** Throws CreateRefusedError when Stream refuses (not ready, too long, unknown video). */
  createDownload(uid: string, type: DownloadType): Promise<StreamDownloads>;
}

/**
 * Stream answered a download create with a 4xx. Its REST codes for "not ready" and "too long"
 * are undocumented, so the caller re-reads the video and classifies the refusal from its state.
 */
export class CreateRefusedError extends Error {
  constructor(
    uid: string,
    readonly status: number,
    readonly codes: number[],
  ) {
    super(`Stream refused to create a download of ${uid} (${status}, codes ${codes.join(", ") || "none"})`);
    this.name = "CreateRefusedError";
  }
}

const UID = /^[0-9a-f]{32}$/;


/**
 * A download as Stream's API reference types it: `status` and `percentComplete` both optional.
 * A missing status is `ready` only at 100 %, else `inprogress` (polled, never served too early);
 * a missing percentage is 100 for a ready download, else 0 (docs/stream-behaviour.md §1).
 */
const Download = z.pipe(
  z.object({
    status: z.nullish(z.enum(DOWNLOAD_STATUSES)),
    percentComplete: z.nullish(z.number().check(z.minimum(0), z.maximum(100))),
  }),
  z.transform(({ status, percentComplete }): StreamDownload => {
    const read = status ?? (percentComplete === 100 ? "ready" : "inprogress");
    return { status: read, percentComplete: percentComplete ?? (read === "ready" ? 100 : 0) };
  }),
);
export const Downloads = z.object({ default: z.optional(Download), audio: z.optional(Download) });
// The official SDK types every video field optional, workers-types declare requireSignedURLs
// nullable, and readyToStream may be missing while a video is not ready: nothing here may fail a
// download because a field is null or absent.
export const Video = z.object({
  uid: z.nullish(z.string()),
  readyToStream: z.nullish(z.boolean()),
  status: z.nullish(z.object({ state: z.nullish(z.string()), errorReasonCode: z.nullish(z.string()) })),
  requireSignedURLs: z.nullish(z.boolean()),
  meta: z.nullish(z.record(z.string(), z.unknown())),
  // Seconds; -1 while Stream does not know it.
  duration: z.nullish(z.number()),
});

/** Stream's `duration` in seconds, or null for its -1 (unknown) and anything else that is not a length. */
export const knownDuration = (value: number | null | undefined): number | null => (typeof value === "number" && value > 0 ? value : null);

/** Stream's video, REST's or the binding's (whose fields of interest have the same names). */
export function toVideo(video: z.infer<typeof Video>, uid: string): StreamVideo {
  const name = video.meta?.["name"];
  return {
    uid,
    readyToStream: readyStreamable({ state: video.status?.state, readyToStream: video.readyToStream }),
    state: video.status?.state ?? "unknown",
    errorReasonCode: video.status?.errorReasonCode || null,
    requireSignedURLs: video.requireSignedURLs === true,
    name: typeof name === "string" ? name : null,
    duration: knownDuration(video.duration),
  };
}
const Failure = z.object({ errors: z.array(z.object({ code: z.number() })) });

/** A Stream answer that is neither an outage nor a refusal of our token; `request` names it in errors. */
interface Answer {
  request: string;
  status: number;
  body: unknown;
}

export class StreamClient implements StreamApi {
  readonly #config: RestConfig;
  readonly #gate: CallGate;

  constructor(config: RestConfig, gate: CallGate) {
    this.#config = config;
    this.#gate = gate;
  }

  async getVideo(uid: string): Promise<StreamVideo | null> {
    const answer = await this.#callVideo("GET", uid, "");
    return answer.status === 404 ? null : toVideo(this.#result(answer, Video), uid);
  }

  async listVideos(first: "newest" | "oldest"): Promise<StreamVideo[]> {
    const videos = this.#result(await this.#call("GET", first === "oldest" ? "?asc=true" : "", "GET …/stream"), z.array(Video));
    return videos.flatMap((video) => (typeof video.uid === "string" ? [toVideo(video, video.uid)] : []));
  }

  async getDownloads(uid: string): Promise<StreamDownloads | null> {
    const answer = await this.#callVideo("GET", uid, "/downloads");
    return answer.status === 404 ? null : this.#result(answer, Downloads);
  }

  async createDownload(uid: string, type: DownloadType): Promise<StreamDownloads> {
    const answer = await this.#callVideo("POST", uid, `/downloads/${type}`);
    if (answer.status >= 400 && answer.status < 500) throw new CreateRefusedError(uid, answer.status, errorCodes(answer));
    // The downloads guide and SDK answer keyed by type like GET; one API reference page shows a
    // flat `{status, percentComplete, url}`, which can only be the requested type. Every field of
    // an entry is optional, so the shape is told by its keys, not by which schema parses.
    const Created = z.pipe(z.transform((result: unknown) => (keyedByType(result) ? result : { [type]: result })), Downloads);
    return this.#result(answer, Created);
  }

  /** A call under `…/stream/{uid}`. */
  #callVideo(method: "GET" | "POST", uid: string, rest: string): Promise<Answer> {
    // Defence in depth: callers validate first, but this value lands in a URL that carries a
    // Stream Write token.
    if (!UID.test(uid)) throw new Error("StreamClient: uid must be 32 lowercase hex characters");
    return this.#call(method, `/${uid}${rest}`, `${method} …/stream/{uid}${rest}`);
  }

  /** One API call, retried on outages (network errors, timeouts, 5xx); other answers go to the caller. */
  #call(method: "GET" | "POST", path: string, request: string): Promise<Answer> {
    const { apiBase, accountId, apiToken, timeoutMs } = this.#config;
    const url = `${apiBase}/accounts/${accountId}/stream${path}`;
    return this.#gate.call(async () => {
      const res = await send(url, method, apiToken, timeoutMs);
      if (res === null || res.status >= 500) return OUTAGE;
      if (res.status === 429) throw this.#gate.rateLimited(retryAfterSeconds(res.headers.get("retry-after")));
      if (res.status === 401 || res.status === 403) {
        throw new StreamCallError({ kind: "credentials-refused", setting: "STREAM_API_TOKEN" });
      }
      return { request, status: res.status, body: tryJson(res.text) };
    });
  }

  #result<T>(answer: Answer, schema: z.ZodMiniType<T>): T {
    if (answer.status < 200 || answer.status >= 300) {
      // A 4xx we did not expect: logged for us (a bug here, or a Stream change), and for the
      // client the download could not be prepared.
      console.error(`Stream answered ${answer.status} to ${answer.request} (codes ${errorCodes(answer).join(", ") || "none"})`);
      throw new StreamCallError({ kind: "refused", request: answer.request, status: answer.status, codes: errorCodes(answer) });
    }
    const parsed = z.object({ success: z.literal(true), result: schema }).safeParse(answer.body);
    if (!parsed.success) throw unreadable();
    return parsed.data.result;
  }
}

/** One attempt; null when Stream could not be reached or did not answer in time. */
async function send(
  url: string,
  method: "GET" | "POST",
  apiToken: string,
  timeoutMs: number,
): Promise<{ status: number; headers: Headers; text: string } | null> {
  try {
    const headers = new Headers({ authorization: `Bearer ${apiToken}` });
    // The API reference marks a JSON body required for creating a download, the only POST made
    // here; its example sends `{}` (docs/stream-behaviour.md §1).
    if (method === "POST") headers.set("content-type", "application/json");
    const res = await fetch(url, { method, headers, body: method === "POST" ? "{}" : null, signal: AbortSignal.timeout(timeoutMs) });
    // The body is read under the same timeout: a stalled body is an outage too.
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch {
    return null;
  }
}

/** Seconds from a 429's `retry-after`; Stream always sends whole seconds, else assume its lockout. */
function retryAfterSeconds(header: string | null): number {
  const seconds = header === null || header.trim() === "" ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.max(1, Math.ceil(seconds)) : LOCKOUT_SECONDS;
}

/** A create's answer keyed by download type, as GET's is (not one flat entry). */
function keyedByType(result: unknown): boolean {
  return typeof result === "object" && result !== null && ("default" in result || "audio" in result);
}

function errorCodes(answer: Answer): number[] {
  const parsed = Failure.safeParse(answer.body);
  return parsed.success ? parsed.data.errors.map((e) => e.code) : [];
}

