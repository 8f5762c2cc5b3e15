import { Hono } from "hono";
import { z } from "zod";
import { badRequest, ok } from "../envelope";
import type { Emulator } from "../emulator";
import { editVideo, listVideos } from "../operations";
import { renderVideo } from "../render";
import { guarded, guardedVideo, readBody } from "./guard";

// Fields of the video edit (`POST …/stream/{uid}`, docs/stream-behaviour.md §2) that the emulator keeps;
// other fields Stream accepts are ignored.
const VideoEdit = z.object({
  uid: z.string().optional(),
  requireSignedURLs: z.boolean().optional(),
  allowedOrigins: z.array(z.string()).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export function videoRoutes(emulator: Emulator): Hono {
  const api = new Hono();

  api.get(
    "/",
    guarded(emulator, "videos.list", (c) => {
      const { status, search, asc } = c.req.query();
      const now = emulator.now();
      const videos = listVideos(emulator, { status, search, asc: asc === "true" });
      return ok(videos.map((v) => renderVideo(v, emulator.settings, now, emulator.quirks)));
    }),
  );

  api.get(
    "/:uid{[0-9a-f]{32}}",
    guardedVideo(emulator, "videos.get", (_c, video) => ok(renderVideo(video, emulator.settings, emulator.now(), emulator.quirks))),
  );

  api.post(
    "/:uid{[0-9a-f]{32}}",
    guardedVideo(emulator, "videos.edit", async (c, video) => {
      const edit = await readBody(c, VideoEdit);
      if (!edit.ok) return edit.response;
      const { uid, ...changes } = edit.value;
      if (uid !== undefined && uid !== video.uid) return badRequest("uid does not match the video");
      await editVideo(emulator, video, changes);
      return ok(renderVideo(video, emulator.settings, emulator.now(), emulator.quirks));
    }),
  );

  return api;
}
