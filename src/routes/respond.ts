// Turning outcomes into responses: problems as RFC 9457 JSON (or the same facts as a small HTML
// page for browsers), and the "preparing" answers: the progress page, the JSON 202, the 503.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { downloadPreparing, Problem, problemHeaders, retryLater } from "../problems";
import { StreamCallError, streamProblem } from "../stream/errors";
import { HTML_HEADERS, escapeHtml, page, wantsHtml } from "../pages/html";
import { isLinkSecret, secretRef } from "../share-links/ids";

/**
 * The problem's `instance`: the request's path as a log line shows it, since apps forward problem
 * bodies to error trackers, and a share link's secret or a grant's ticket there is a capability.
 */
export function problemResponse(problem: Problem, request: Request): Response {
  const instance = loggedPath(request.url);
  if (wantsHtml(request)) {
    const headers = { "cache-control": "no-store", ...problem.options.headers };
    // Words for people; the machine's slug and status stay out of the text, in data attributes.
    const body = page(problem.title, `<p data-problem="${escapeHtml(problem.type)}" data-status="${problem.status}">${escapeHtml(problem.detail)}</p>`);
    return new Response(body, { status: problem.status, headers: { ...HTML_HEADERS, ...headers } });
  }
  return new Response(JSON.stringify(problem.body(instance)), { status: problem.status, headers: problemHeaders(problem) });
}

/**
 * An HTTPException of the host app's (its hook refused with, say, a 401): its own response when it
 * made one, else the status as an RFC 9457 `about:blank` problem (the status says it all).
 */
function hostException(error: HTTPException, request: Request): Response {
  if (error.res !== undefined) return error.getResponse();
  const body = { type: "about:blank", title: STATUS_TEXT[error.status] ?? "Error", status: error.status, detail: error.message, instance: loggedPath(request.url) };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/problem+json", "x-content-type-options": "nosniff", "cache-control": "no-store" },
  });
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 410: "Gone", 429: "Too Many Requests" };

/**
 * While Stream prepares the file: for a browser navigation, a 202 page that refreshes itself (no
 * script needed under the strict CSP) and lands on the download when it is ready; a 202 with the
 * progress for clients that ask for JSON; for any other client, 503 download-preparing.
 */
export function preparingResponse(request: Request, percent: number, retryAfter: number): Response {
  const common = { "retry-after": String(retryAfter), "cache-control": "no-store" };
  if (wantsHtml(request)) {
    const rounded = Math.floor(percent);
    const body = page(
      "Preparing your download",
      `<p>Cloudflare Stream is preparing this file. This page continues by itself when it is ready.</p>
<progress max="100" value="${rounded}" aria-label="Preparation progress">${rounded}%</progress>
<p class="muted">${rounded}% · checking again in ${retryAfter} s</p>`,
      `<meta http-equiv="refresh" content="${retryAfter}">`,
    );
    return new Response(body, { status: 202, headers: { ...HTML_HEADERS, ...common } });
  }
  // `curl -fL -o file.mp4` would take a 202 for success and save its JSON as the file.
  if (!asksForJson(request)) return problemResponse(downloadPreparing(percent, retryAfter), request);
  return preparingJson(percent, retryAfter);
}

/** The 202 a JSON client (the button helper, `fetch` with `Accept: application/json`) polls on. */
export function preparingJson(percent: number, retryAfter: number): Response {
  return new Response(JSON.stringify({ status: "inprogress", percentComplete: percent, retryAfter }), {
    status: 202,
    headers: { "content-type": "application/json", "retry-after": String(retryAfter), "cache-control": "no-store" },
  });
}

/** Whether `Accept` lists application/json with a q above 0 (`*\/*`, curl's and fetch's default, does not count). */
function asksForJson(request: Request): boolean {
  return (request.headers.get("accept") ?? "").split(",").some((range) => {
    const [type, ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith("q="));
    return type === "application/json" && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** What clients are told to wait after D1 failed them. */
const STORAGE_RETRY_SECONDS = 5;

/**
 * A request's path as a log line shows it: a share link's secret and a ticket are capabilities,
 * so a secret is cut to its first characters (docs/operations.md › Logs and monitoring) and a
 * ticket left out; the owner API's public ids are shown whole.
 */
export function loggedPath(url: string): string {
  return new URL(url).pathname
    .replace(/\/s\/([^/]+)/, (_, secret: string) => `/s/${secretRef(secret)}`)
    // The owner API takes an older app's kept secret in place of the public id.
    .replace(/\/share-links\/([^/]+)/, (_, id: string) => `/share-links/${isLinkSecret(id) ? secretRef(id) : id}`)
    .replace(/\/d\/[^/]+/, "/d/…");
}

/** Problems as RFC 9457 (Stream's failures too); D1 failing as a retryable 503; anything else a logged 500 without internals. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof Problem) return problemResponse(error, c.req.raw);
  if (error instanceof HTTPException) return hostException(error, c.req.raw);
  if (error instanceof StreamCallError) return problemResponse(streamProblem(error.failure), c.req.raw);
  // D1 failing (an outage, an overloaded database) is not the client's fault nor a bug of ours:
  // a retryable 503. Grants record before they deliver, so nothing was handed out.
  if (error.message.startsWith("D1_")) {
    console.error("D1 failed", c.req.method, loggedPath(c.req.url), error.message);
    return problemResponse(retryLater("upstream-unavailable", "The gateway's database is unavailable.", STORAGE_RETRY_SECONDS), c.req.raw);
  }
  console.error("unhandled error", c.req.method, loggedPath(c.req.url), error);
  return problemResponse(new Problem("internal", "Something went wrong on our side."), c.req.raw);
}
