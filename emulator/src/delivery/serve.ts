// The delivery host: `/{uid or token}/downloads/default.mp4` and `/audio.m4a`, and the poster
// frame `/{uid or token}/thumbnails/thumbnail.jpg` (any signed token will do: it need not be downloadable).
import { applyFault } from "../api/guard";
import type { Emulator } from "../emulator";
import { MEDIA, THUMBNAIL } from "../media";
import { downloadProgress, readyToStreamAt, videoState, type DownloadType } from "../store";
import { evaluateAccessRules } from "./access-rules";
import { contentRange, decideRange } from "./range";
import { verifyToken } from "./verify";

const FILES: Record<string, DownloadType> = { "default.mp4": "default", "audio.m4a": "audio" };

// Stream's thumbnail attributes and their defaults (its "Display thumbnails" page): a time such
// as `8m` or `5m2s`, a size in pixels, and how a size that differs from the video's is met.
const THUMBNAIL_FITS = ["crop", "clip", "scale", "fill"] as const;
const THUMBNAIL_TIME = /^(?=\d)(\d+h)?(\d+m)?(\d+(\.\d+)?s)?$/;
// Stream documents no largest size; this bound is the emulator's.
const THUMBNAIL_MAX_PIXELS = 10_000;

interface ThumbnailOptions {
  time: string;
  width: number;
  height: number;
  fit: (typeof THUMBNAIL_FITS)[number];
}

/** The thumbnail a query asks for, or why it is refused. */
function thumbnailOptions(query: URLSearchParams): ThumbnailOptions | string {
  const time = query.get("time") ?? "0s";
  if (!THUMBNAIL_TIME.test(time)) return "time must be a time such as 1s, 8m or 5m2s";
  const size = (name: "width" | "height"): number | string => {
    const raw = query.get(name) ?? "640";
    const pixels = /^\d+$/.test(raw) ? Number(raw) : 0;
    return pixels >= 1 && pixels <= THUMBNAIL_MAX_PIXELS ? pixels : `${name} must be a whole number of pixels from 1 to ${THUMBNAIL_MAX_PIXELS}`;
  };
  const width = size("width");
  if (typeof width === "string") return width;
  const height = size("height");
  if (typeof height === "string") return height;
  const fit = query.get("fit") ?? "crop";
  if (!(THUMBNAIL_FITS as readonly string[]).includes(fit)) return `fit must be one of ${THUMBNAIL_FITS.join(", ")}`;
  return { time, width, height, fit: fit as ThumbnailOptions["fit"] };
}
const UID = /^[0-9a-f]{32}$/;
// Stream documents `?filename=` as at most 120 characters of [A-Za-z0-9_-], extension appended
// by Stream; its own example passes `MY_VIDEO.mp4`, so a trailing extension is tolerated.
const FILENAME = /^[A-Za-z0-9_-]{1,120}$/;

function refuse(status: number, reason: string): Response {
  return new Response(`${reason}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function client(emulator: Emulator, request: Request): { ip: string | null; country: string | null } {
  const cf = (request as { cf?: { country?: unknown } }).cf;
  return {
    ip: emulator.quirks.deliveryClientIp ?? request.headers.get("cf-connecting-ip"),
    country: request.headers.get("cf-ipcountry") ?? (typeof cf?.country === "string" ? cf.country : null),
  };
}

/** The video a path's uid or token names, or the refusal; `download`: the token must allow downloads. */
async function resolve(emulator: Emulator, request: Request, id: string, download: boolean): Promise<string | Response> {
  if (UID.test(id)) {
    const video = emulator.video(id);
    if (!video) return refuse(404, "no such video");
    if (video.requireSignedURLs) return refuse(401, "this video requires a signed URL");
    return id;
  }
  const verdict = await verifyToken(emulator, id);
  if (!verdict.ok) return refuse(verdict.status, verdict.reason);
  if (download && !verdict.downloadable) return refuse(403, "the token does not allow downloads (downloadable is not true)");
  const decision = evaluateAccessRules(verdict.accessRules, client(emulator, request));
  if (!decision.allowed) return refuse(403, `blocked by access rule ${decision.rule}`);
  return verdict.video;
}

export async function thumbnail(emulator: Emulator, request: Request, id: string): Promise<Response> {
  const uid = await resolve(emulator, request, id, false);
  if (typeof uid !== "string") return uid;
  emulator.counters.count("delivery.thumbnail", uid);
  const options = thumbnailOptions(new URL(request.url).searchParams);
  if (typeof options === "string") return refuse(400, options);
  const state = videoState(emulator.video(uid)!, emulator.now());
  if (state === "error") return refuse(424, "the video failed to process");
  if (state !== "ready") return refuse(404, "the video has no thumbnail until it is ready");
  // Every size is the same poster frame; the header says what Stream would have made of the query.
  const { time, width, height, fit } = options;
  const headers = {
    "content-type": "image/jpeg",
    "content-length": String(THUMBNAIL.length),
    "cache-control": "private, max-age=0",
    "x-emulator-thumbnail": `time=${time} width=${width} height=${height} fit=${fit}`,
  };
  return new Response(request.method === "HEAD" ? null : THUMBNAIL, { headers });
}

/**
 * Whether a request may have a video whose `allowedOrigins` are `allowed`: an empty list allows
 * every origin; otherwise the host of the request's Origin (or, failing that, its Referer) must
 * be listed, by name (with or without its port) or under a `*.` wildcard for subdomains. A
 * request that names no origin is refused.
 */
function originAllowed(allowed: readonly string[], headers: Headers): boolean {
  if (allowed.length === 0) return true;
  const from = headers.get("origin") ?? headers.get("referer");
  if (from === null || !URL.canParse(from)) return false;
  const { host, hostname } = new URL(from);
  return allowed.some((entry) =>
    entry.startsWith("*.") ? hostname.endsWith(entry.slice(1)) : entry === host || entry === hostname,
  );
}

export async function deliver(emulator: Emulator, request: Request, id: string, file: string): Promise<Response> {
  const type = FILES[file];
  if (!type) return refuse(404, "not found");

  const uid = await resolve(emulator, request, id, true);
  if (typeof uid !== "string") return uid;
  emulator.counters.count(request.method === "HEAD" ? "delivery.head" : "delivery", uid);
  const injected = await applyFault(emulator.faults.take("delivery", uid));
  if (injected) return injected;

  const video = emulator.video(uid)!;
  const now = emulator.now();
  const { quirks } = emulator;
  // Since 2024-06-11 Stream answers 424 for anything of an errored video (docs/stream-behaviour.md §1).
  if (videoState(video, now) === "error") return refuse(424, "the video failed to process");
  if (quirks.allowedOriginsOnDownloads && !originAllowed(video.allowedOrigins, request.headers)) {
    return refuse(403, "the request's origin is not one of the video's allowedOrigins");
  }
  const download = video.downloads[type];
  if (!download) return refuse(404, `the ${type} download has not been enabled for this video`);
  if (readyToStreamAt(video, now, quirks) === null) return refuse(quirks.deliveryNotReady, "the video is not ready to stream");
  if (downloadProgress(download, now).status !== "ready") return refuse(quirks.deliveryNotReady, `the ${type} download is not ready`);

  const media = MEDIA[type];
  const headers = new Headers({
    "content-type": media.contentType,
    "accept-ranges": "bytes",
    etag: media.etag,
    "cache-control": "private, max-age=0",
  });
  const filename = new URL(request.url).searchParams.get("filename");
  if (filename !== null) {
    const base = filename.replace(new RegExp(`\\.${media.extension}$`), "");
    if (!FILENAME.test(base)) return refuse(400, "filename must be 1-120 characters of [A-Za-z0-9_-]");
    headers.set("content-disposition", `attachment; filename="${base}.${media.extension}"`);
  }

  const ifRange = request.headers.get("if-range");
  const range = ifRange !== null && ifRange !== media.etag ? { kind: "full" as const } : decideRange(request.headers.get("range"), media.bytes.length);
  const size = media.bytes.length;
  const body = (bytes: Uint8Array) => (request.method === "HEAD" ? null : bytes);
  switch (range.kind) {
    case "unsatisfiable":
      headers.set("content-range", contentRange(range, size));
      headers.set("content-length", "0");
      return new Response(null, { status: 416, headers });
    case "partial": {
      headers.set("content-range", contentRange(range, size));
      headers.set("content-length", String(range.end - range.start + 1));
      return new Response(body(media.bytes.slice(range.start, range.end + 1)), { status: 206, headers });
    }
    default:
      headers.set("content-length", String(size));
      return new Response(body(media.bytes), { status: 200, headers });
  }
}
