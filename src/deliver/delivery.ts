// Step 5: hand the file over, by redirect (the browser fetches from Stream) or by streaming it
// through the Worker (Stream sees only the Worker; the filename is guaranteed).
import type { Config } from "../config/config";
import { Problem, retryLater } from "../problems";
import type { DownloadType } from "../config/config";

export const DOWNLOAD_FILES: Record<DownloadType, { file: string; extension: "mp4" | "m4a" }> = {
  default: { file: "default.mp4", extension: "mp4" },
  audio: { file: "audio.m4a", extension: "m4a" },
};

/** Always built from STREAM_DELIVERY_BASE and our own token, never from request input. */
export function deliveryUrl(config: Config, token: string, type: DownloadType, filename?: string): string {
  const url = new URL(`${config.stream.deliveryBase}/${token}/downloads/${DOWNLOAD_FILES[type].file}`);
  if (filename) url.searchParams.set("filename", filename);
  return url.href;
}

/**
 * A video's poster at Stream, exactly `width`×`height`: both sides and the fit are named, because
 * Stream's defaults are 640×640 and `crop` (docs/stream-behaviour.md §6). `crop` keeps the centre,
 * as the share page's `object-fit: cover` box would. The token may be view-only.
 */
export function thumbnailUrl(config: Config, token: string, size: { width: number; height: number }): string {
  const url = new URL(`${config.stream.deliveryBase}/${token}/thumbnails/thumbnail.jpg`);
  url.searchParams.set("width", String(size.width));
  url.searchParams.set("height", String(size.height));
  url.searchParams.set("fit", "crop");
  return url.href;
}

export function redirectTo(url: string): Response {
  return new Response(null, {
    status: 302,
    headers: { location: url, "cache-control": "no-store", "referrer-policy": "no-referrer" },
  });
}

/** What clients are told to wait after Stream's delivery host failed them. */
const OUTAGE_RETRY_SECONDS = 5;

// Only what describes the bytes travels back; Stream's cookies or caching headers do not.
const PASSED_BACK = ["content-type", "content-length", "content-range", "accept-ranges", "etag", "last-modified"];

/**
 * Fetches the file from Stream and streams the body through without buffering. Only Range and
 * If-Range are forwarded: never the user's cookies or Authorization. A HEAD asks Stream for the
 * headers only, so it never pulls (or is billed for) the body.
 */
export async function streamThrough(
  request: Request,
  url: string,
  contentDisposition: string,
  timeoutMs: number,
): Promise<Response> {
  const forwarded = new Headers();
  for (const name of ["range", "if-range"]) {
    const value = request.headers.get(name);
    if (value !== null) forwarded.set(name, value);
  }
  let upstream: Response;
  try {
    const method = request.method === "HEAD" ? "HEAD" : "GET";
    upstream = await fetch(url, { method, headers: forwarded, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw retryLater("upstream-unavailable", "Stream's delivery host did not answer.", OUTAGE_RETRY_SECONDS);
  }
  if (upstream.status !== 200 && upstream.status !== 206 && upstream.status !== 416) {
    await upstream.body?.cancel();
    if (upstream.status >= 500 || upstream.status === 429) {
      throw retryLater("upstream-unavailable", `Stream's delivery host answered ${upstream.status}.`, OUTAGE_RETRY_SECONDS);
    }
    throw new Problem("download-failed", `Stream refused the download (${upstream.status}).`);
  }
  const out = new Headers();
  for (const name of PASSED_BACK) {
    const value = upstream.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set("content-disposition", contentDisposition);
  out.set("cache-control", "no-store");
  out.set("referrer-policy", "no-referrer");
  out.set("x-content-type-options", "nosniff");
  return new Response(upstream.body, { status: upstream.status, headers: out });
}
