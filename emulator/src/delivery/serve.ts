// The delivery host: `/{uid or token}/downloads/default.mp4` and `/audio.m4a`, and the poster
// frame `/{uid or token}/thumbnails/thumbnail.jpg` (any signed token will do: it need not be downloadable).
import { applyFault } from "../api/guard";
import type { Emulator } from "../emulator";
import { MEDIA, THUMBNAIL } from "../media";
import { downloadProgress, videoState, type DownloadType } from "../store";
import { evaluateAccessRules } from "./access-rules";
import { contentRange, decideRange } from "./range";
import { verifyToken } from "./verify";

const FILES: Record<string, DownloadType> = { "default.mp4": "default", "audio.m4a": "audio" };
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
  if (videoState(emulator.video(uid)!, emulator.now()) !== "ready") return refuse(404, "the video has no thumbnail until it is ready");
  const headers = { "content-type": "image/jpeg", "content-length": String(THUMBNAIL.length), "cache-control": "private, max-age=0" };
  return new Response(request.method === "HEAD" ? null : THUMBNAIL, { headers });
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
  // Since 2024-06-11 Stream answers 424 for anything of an errored video (docs/stream-behaviour.md §1).
  if (videoState(video, now) === "error") return refuse(424, "the video failed to process");
  const download = video.downloads[type];
  if (!download) return refuse(404, `the ${type} download has not been enabled for this video`);
  if (downloadProgress(download, now).status !== "ready") return refuse(emulator.quirks.deliveryNotReady, `the ${type} download is not ready`);

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
