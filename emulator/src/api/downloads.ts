import { Hono, type Context } from "hono";
import { fail, noRoute, ok } from "../envelope";
import type { Emulator } from "../emulator";
import { renderDownloads } from "../render";
import { videoState, type DownloadType } from "../store";
import { apiPath, guardedVideo } from "./guard";

// Exactly the five operations Stream has (docs/stream-behaviour.md §1): there is no GET of one type, and
// a request for it falls through to the unknown-route answer like any other path.
export function downloadRoutes(emulator: Emulator): Hono {
  const api = new Hono();
  const typeOf = (c: Context): DownloadType | null => {
    const type = c.req.param("type") ?? "default";
    return type === "default" || type === "audio" ? type : null;
  };

  const create = guardedVideo(emulator, "downloads.create", async (c, video) => {
    const type = typeOf(c);
    if (!type) return noRoute(apiPath(c));
    const now = emulator.now();
    // Downloads can only be enabled once the video is ready to view; Stream documents no REST
    // code for the refusal, so we answer like its Bad Request.
    if (videoState(video, now) !== "ready") {
      const { status, code } = emulator.quirks.notReadyCreate;
      return fail(status, [{ code, message: "Bad Request: the video is not ready to stream yet" }]);
    }
    // Live recordings over 4 hours cannot be downloaded (Stream's changelog); the REST answer is
    // undocumented, and this one is invented.
    if (video.refusesDownloads === true || video.refusesDownloads === type) return fail(400, [{ code: 10031, message: "Bad Request: the video duration is too long to generate a download" }]);
    if (!video.downloads[type]) {
      video.downloads[type] = { createdAt: now, endsAt: now + video.downloadMs, outcome: video.downloadOutcome[type] };
      await emulator.save();
    }
    const downloads = renderDownloads(video, emulator.settings, now);
    return ok(emulator.quirks.createResponse === "flat" ? downloads[type] : downloads);
  });

  const remove = guardedVideo(emulator, "downloads.delete", async (c, video) => {
    const type = typeOf(c);
    if (!type || !video.downloads[type]) return noRoute(apiPath(c));
    delete video.downloads[type];
    await emulator.save();
    return ok("Deleted");
  });

  api.get(
    "/",
    guardedVideo(emulator, "downloads.get", (_c, video) => ok(renderDownloads(video, emulator.settings, emulator.now()))),
  );
  api.post("/", create);
  api.delete("/", remove);
  api.post("/:type", create);
  api.delete("/:type", remove);
  return api;
}
