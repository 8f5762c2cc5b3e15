// Files of public/, served through Workers Static Assets with the Worker in front
// (`run_worker_first`): the Worker decides which files exist for whom, and with which headers.
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../gateway/context";
import { documented, problems, PUBLIC, type Operation } from "../routes/openapi";
import { Problem } from "../problems";

/** The reference Worker's own routes (demo, assets) also read its Env; the library never does. */
export type WorkerEnv = { Bindings: Env } & AppEnv;

export async function serveAsset(c: Context<WorkerEnv>, headers: Record<string, string>): Promise<Response> {
  const res = await c.env.ASSETS.fetch(c.req.raw);
  if (res.status === 404) throw new Problem("not-found", "No such route.");
  const served = new Response(res.body, res);
  for (const [name, value] of Object.entries(headers)) served.headers.set(name, value);
  return served;
}

const HELPER_HEADERS = {
  // Public code without secrets, for any app's pages: module scripts are fetched with CORS, so
  // an app on another origin needs this header to import it. The API's CORS policy is separate.
  "access-control-allow-origin": "*",
  "cross-origin-resource-policy": "cross-origin",
  "x-content-type-options": "nosniff",
  // The URL carries no version: caches keep it for 10 minutes, then revalidate with its ETag.
  "cache-control": "public, max-age=600",
};

const HELPER = (): Operation => ({
  summary: "The download-button helper (ES module, dependency-free)",
  security: PUBLIC,
  responses: { 200: { description: "JavaScript", content: { "text/javascript": {} } }, ...problems("not-found") },
});

/** The download-button helper (client/stream-download.ts, built by `npm run build:client`). */
export function assetRoutes(): Hono<WorkerEnv> {
  return new Hono<WorkerEnv>().get("/assets/stream-download.js", documented(HELPER), (c) => serveAsset(c, HELPER_HEADERS));
}
