import { Hono, type Context } from "hono";
import { z } from "zod";
import { badRequest, fail, noRoute, ok } from "../envelope";
import type { Emulator } from "../emulator";
import { REFUSAL_MESSAGES, TOO_LONG_CODE, createDownload, deleteDownload } from "../operations";
import { renderApiDownloads } from "../render";
import type { DownloadType } from "../store";
import { apiPath, guardedVideo, readBody } from "./guard";

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
    if (emulator.quirks.createRequiresBody && (await c.req.text()).trim() === "") return badRequest("a request body is required");
    const body = await readBody(c, z.object({}));
    if (!body.ok) return body.response;
    const now = emulator.now();
    const created = await createDownload(emulator, video, type, now);
    if (!created.ok) {
      const message = `Bad Request: ${REFUSAL_MESSAGES[created.refusal]}`;
      // Stream documents no REST code for either refusal: the not-ready answer is a quirk, the
      // too-long one is invented.
      if (created.refusal === "too-long") return fail(400, [{ code: TOO_LONG_CODE, message }]);
      const { status, code } = emulator.quirks.notReadyCreate;
      return fail(status, [{ code, message }]);
    }
    const downloads = renderApiDownloads(video, emulator.settings, now, emulator.quirks);
    return ok(emulator.quirks.createResponse === "flat" ? downloads[type] : downloads);
  });

  const remove = guardedVideo(emulator, "downloads.delete", async (c, video) => {
    const type = typeOf(c);
    if (!type || !(await deleteDownload(emulator, video, type))) return noRoute(apiPath(c));
    return ok("Deleted");
  });

  api.get(
    "/",
    guardedVideo(emulator, "downloads.get", (_c, video) => ok(renderApiDownloads(video, emulator.settings, emulator.now(), emulator.quirks))),
  );
  api.post("/", create);
  api.delete("/", remove);
  api.post("/:type", create);
  api.delete("/:type", remove);
  return api;
}
