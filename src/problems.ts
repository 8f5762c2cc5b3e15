// RFC 9457 problem details: the one error model of the gateway. A client branches on `type`, a
// stable slug (a relative URI reference, as RFC 9457 allows), never on prose. A Problem is Hono's
// HTTPException, so a host app's `onError` and Hono's default handler render it too.
import { HTTPException } from "hono/http-exception";

export const PROBLEM_STATUS = {
  unauthenticated: 401,
  "not-entitled": 403,
  "cross-site-request": 403,
  "not-found": 404,
  "link-expired": 410,
  "link-revoked": 410,
  "link-exhausted": 410,
  "link-suspended": 410,
  "link-paused": 410,
  "grant-spent": 410,
  "invalid-request": 400,
  "payload-too-large": 413,
  "video-not-ready": 409,
  "video-not-protected": 409,
  "video-not-downloadable": 409,
  "quota-exceeded": 429,
  "rate-limited": 429,
  "too-many-links": 409,
  "download-failed": 502,
  "download-preparing": 503,
  "upstream-unavailable": 503,
  misconfigured: 500,
  internal: 500,
} as const;

export type ProblemType = keyof typeof PROBLEM_STATUS;

const TITLES: Record<ProblemType, string> = {
  unauthenticated: "Sign-in required",
  "not-entitled": "Not entitled to this video",
  "cross-site-request": "Another site may not start this request",
  "not-found": "Not found",
  "link-expired": "This link has expired",
  "link-revoked": "This link has been revoked",
  "link-exhausted": "This link has no downloads left",
  "link-suspended": "This link is suspended",
  "link-paused": "This link is on hold",
  "grant-spent": "This download URL has delivered all it may",
  "invalid-request": "Invalid request",
  "payload-too-large": "The request body is too large",
  "video-not-ready": "The video is not ready yet",
  "video-not-protected": "The video is not protected",
  "video-not-downloadable": "Stream cannot make a download of this video",
  "quota-exceeded": "Daily download quota reached",
  "rate-limited": "Too many requests",
  "too-many-links": "Too many active share links",
  "download-failed": "The download could not be prepared",
  "download-preparing": "The download is still being prepared",
  "upstream-unavailable": "A service the gateway depends on is unavailable",
  misconfigured: "The gateway is misconfigured",
  internal: "Internal error",
};

export interface ProblemOptions {
  /** Extra members of the problem object, e.g. `field` for invalid-request, `setting` for misconfigured. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class Problem extends HTTPException {
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly options: ProblemOptions = {},
  ) {
    super(PROBLEM_STATUS[type], { message: `${type}: ${detail}` });
  }

  get title(): string {
    return TITLES[this.type];
  }

  body(instance: string): Record<string, unknown> {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance,
      ...this.options.extensions,
    };
  }

  /** What Hono renders outside the gateway's own handler (a host's `onError`): the problem, without `instance`, which needs the request. */
  override getResponse(): Response {
    const { instance: _, ...body } = this.body("");
    return new Response(JSON.stringify(body), { status: this.status, headers: problemHeaders(this) });
  }
}

/** The headers of a problem+json response. */
/** What a log line (or a kept failure) says of a thrown value: its message, and its kind unless plain `Error`; never its stack. */
export const errorText = (error: unknown): string =>
  !(error instanceof Error) ? String(error) : error.name === "Error" ? error.message : `${error.name}: ${error.message}`;

export function problemHeaders(problem: Problem): Record<string, string> {
  return { "content-type": "application/problem+json", "x-content-type-options": "nosniff", "cache-control": "no-store", ...problem.options.headers };
}

/** Nobody (or nobody valid) is signed in; `challenge` is the WWW-Authenticate header, if any. */
export function unauthenticated(detail: string, challenge?: string): Problem {
  return new Problem("unauthenticated", detail, challenge === undefined ? {} : { headers: { "www-authenticate": challenge } });
}

/** A setting or binding is missing or wrong; named, never its value (values include secrets). */
export function misconfigured(setting: string, detail: string): Problem {
  return new Problem("misconfigured", detail, { extensions: { setting } });
}

export function invalidRequest(field: string, detail: string): Problem {
  return new Problem("invalid-request", detail, { extensions: { field } });
}

export function retryLater(type: "rate-limited" | "quota-exceeded" | "upstream-unavailable", detail: string, seconds: number): Problem {
  return new Problem(type, detail, { headers: { "retry-after": String(seconds) }, extensions: { retryAfter: seconds } });
}

/**
 * Calls to a part the gateway cannot decide without (a Durable Object that counts a limit), made
 * to fail closed: a failure is logged as `part` unavailable and answered 503 with `detail`.
 */
export function failingClosed(part: string, detail: string, retryAfterSeconds: number): <T>(call: () => Promise<T>) => Promise<T> {
  return async (call) => {
    try {
      return await call();
    } catch (error) {
      console.error(`${part} unavailable`, errorText(error));
      throw retryLater("upstream-unavailable", detail, retryAfterSeconds);
    }
  };
}

/**
 * Stream is still making the file, told to a client that asked for neither JSON nor HTML
 * (`curl -fL -o file.mp4`, wget): a 2xx would be saved as the file, a 503 with `Retry-After` is
 * retried (`curl --retry`). JSON clients get the 202 with the same progress instead.
 */
export function downloadPreparing(percentComplete: number, seconds: number): Problem {
  return new Problem("download-preparing", `Cloudflare Stream is preparing this file (${Math.floor(percentComplete)}% done). Ask again in ${seconds} s.`, {
    headers: { "retry-after": String(seconds) },
    extensions: { retryAfter: seconds, percentComplete },
  });
}

export function payloadTooLarge(maxBytes: number): Problem {
  return new Problem("payload-too-large", `The body must be at most ${maxBytes} bytes.`, { extensions: { maxBytes } });
}
