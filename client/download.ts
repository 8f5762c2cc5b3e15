// Asking the gateway for a download URL: `POST {gateway}/v1/videos/:uid/download-url` with the
// app's bearer token, following 202 answers (Stream is still preparing the file) until the URL
// comes. No DOM in this file, so the tests run it inside workerd against the real gateway.

export type DownloadType = "default" | "audio";

/** One 202 answer: Stream is preparing the file. */
export interface DownloadProgress {
  status: "inprogress";
  /** 0–100, as Stream reports it. */
  percentComplete: number;
  /** Seconds until the next attempt. */
  retryAfter: number;
}

/** Where the file can be fetched, and until when (ISO 8601). */
export interface DownloadUrl {
  url: string;
  expiresAt: string;
}

export interface DownloadUrlOptions {
  /** Where the gateway is: its origin ("https://downloads.example.com") or, mounted in your app, its base URL or path ("/downloads"); default: this page's origin. */
  gateway?: string;
  /** The app's JWT for the user. Give this or `getToken`. */
  token?: string;
  /** Called before every request, so that a token refreshed meanwhile is used. */
  getToken?: () => string | Promise<string>;
  /**
   * Headers for every request, e.g. `{ "x-csrf-token": … }` where the app's own session cookie
   * identifies the user (the library mounted with the app's `identify`, on the same origin). With
   * them, no token is needed.
   */
  headers?: Record<string, string>;
  /** "default" (MP4, the default) or "audio" (M4A). */
  type?: DownloadType;
  /** The name to save the file under; the gateway falls back to the video's name. */
  filename?: string;
  /** Called on every 202 while Stream prepares the file. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborts the wait (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Gives up after this many seconds of waiting for Stream (default 900). */
  timeoutSeconds?: number;
  /** The fetch to use (default: the global one); for tests and instrumented clients. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** An RFC 9457 problem as the gateway sends it (`type` is a slug such as "not-entitled"). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  retryAfter?: number;
  [extension: string]: unknown;
}

/**
 * Any failure. `type` is the gateway's problem slug (docs/http-api.md › Errors), or one of this module's
 * own: "network-error" and "timeout" (status 0), "invalid-response" (the gateway's status).
 */
export class StreamDownloadError extends Error {
  static readonly code = "ERR_STREAM_DOWNLOAD";
  readonly code = StreamDownloadError.code;
  readonly type: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Seconds to wait before trying again, when the gateway said (429, 503). */
  readonly retryAfter: number | null;
  readonly problem: ProblemDetails;

  constructor(problem: ProblemDetails, options?: { cause?: unknown }) {
    super(`${problem.type}: ${problem.detail}`, options);
    this.name = "StreamDownloadError";
    this.type = problem.type;
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.retryAfter = typeof problem.retryAfter === "number" ? problem.retryAfter : null;
    this.problem = problem;
  }

  /** The error an unsuccessful gateway answer stands for (for apps calling other gateway routes). */
  static async fromResponse(res: Response): Promise<StreamDownloadError> {
    return new StreamDownloadError(await readProblem(res));
  }
}

const DEFAULT_TIMEOUT_SECONDS = 900;
/** Bounds on the wait between attempts, whatever the gateway says. */
const MIN_WAIT_SECONDS = 1;
const MAX_WAIT_SECONDS = 60;

/** Asks the gateway until it hands out the URL; rejects with a StreamDownloadError. */
export async function requestDownloadUrl(uid: string, options: DownloadUrlOptions = {}): Promise<DownloadUrl> {
  if (!options.token && !options.getToken && !options.headers) throw new TypeError("streamDownload needs a token, getToken or headers");
  const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const endpoint = `${(options.gateway ?? "").replace(/\/+$/, "")}/v1/videos/${encodeURIComponent(uid)}/download-url`;
  const body = JSON.stringify({ type: options.type ?? "default", ...(options.filename ? { filename: options.filename } : {}) });
  const deadline = Date.now() + (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;

  for (;;) {
    options.signal?.throwIfAborted();
    const token = options.token ?? (await options.getToken?.());
    let res: Response;
    try {
      res = await send(endpoint, {
        method: "POST",
        // The route never redirects: one that did would take the token and headers elsewhere, so a
        // redirect is not followed (and then fails as an unexpected answer).
        redirect: "manual",
        headers: {
          ...options.headers,
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          "content-type": "application/json",
          accept: "application/json",
        },
        body,
        signal: options.signal,
      });
    } catch (error) {
      options.signal?.throwIfAborted();
      throw clientError("network-error", 0, "The gateway could not be reached.", error);
    }
    if (res.status === 202) {
      const progress = await readProgress(res);
      options.onProgress?.(progress);
      if (Date.now() + progress.retryAfter * 1000 > deadline) {
        throw clientError("timeout", 0, "Stream took too long to prepare the file.");
      }
      await sleep(progress.retryAfter * 1000, options.signal);
      continue;
    }
    if (res.ok) return readUrl(res);
    throw await StreamDownloadError.fromResponse(res);
  }
}

function clientError(type: string, status: number, detail: string, cause?: unknown): StreamDownloadError {
  const titles: Record<string, string> = {
    "network-error": "Network error",
    timeout: "Timed out",
    "invalid-response": "Unexpected answer from the gateway",
  };
  return new StreamDownloadError({ type, title: titles[type] ?? type, status, detail }, { cause });
}

async function readJson(res: Response): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = await res.json();
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `Retry-After` (seconds) wins over the body's `retryAfter`; both are bounded. */
async function readProgress(res: Response): Promise<DownloadProgress> {
  const body = await readJson(res);
  const header = Number(res.headers.get("retry-after") ?? Number.NaN);
  const fromBody = typeof body?.["retryAfter"] === "number" ? body["retryAfter"] : Number.NaN;
  const wait = Number.isFinite(header) ? header : Number.isFinite(fromBody) ? fromBody : 2;
  const percent = typeof body?.["percentComplete"] === "number" ? body["percentComplete"] : 0;
  return {
    status: "inprogress",
    percentComplete: Math.min(100, Math.max(0, percent)),
    retryAfter: Math.min(MAX_WAIT_SECONDS, Math.max(MIN_WAIT_SECONDS, wait)),
  };
}

async function readUrl(res: Response): Promise<DownloadUrl> {
  const body = await readJson(res);
  const url = body?.["url"];
  const expiresAt = body?.["expiresAt"];
  // Only http(s) is ever navigated to: a javascript: URL from a compromised answer must not run.
  if (typeof url !== "string" || !/^https?:\/\//i.test(url) || typeof expiresAt !== "string") {
    throw clientError("invalid-response", res.status, "The gateway's answer has no download URL.");
  }
  return { url, expiresAt };
}

async function readProblem(res: Response): Promise<ProblemDetails> {
  const body = await readJson(res);
  const text = (name: string, fallback: string) => (typeof body?.[name] === "string" ? (body[name] as string) : fallback);
  if (body === null || typeof body["type"] !== "string") {
    return { type: "invalid-response", title: "Unexpected answer from the gateway", status: res.status, detail: `HTTP ${res.status}` };
  }
  const header = Number(res.headers.get("retry-after") ?? Number.NaN);
  return {
    ...body,
    type: text("type", "about:blank"),
    title: text("title", res.statusText),
    status: res.status,
    detail: text("detail", ""),
    ...(Number.isFinite(header) ? { retryAfter: header } : {}),
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
