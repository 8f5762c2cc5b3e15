// The reference Worker (wrangler.toml) is the gateway library configured from `env`, plus the
// download-button helper from public/, the crons and the audit queue's consumer. The production entry is index.ts; the
// development entry (dev.ts) adds the demo, so that nothing development-only is deployed.
import type { Hono } from "hono";
import type { WorkerEnv } from "./demo/assets";
import { documented, ok, PUBLIC, type Operation } from "./routes/openapi";
import { problemResponse } from "./routes/respond";
import { streamDownloads } from "./library";
import { gatewayResolver, optionsFromEnv, type StreamDownloadsOptions } from "./app/options";
import { queuesNamedIn } from "./config/wiring-names";
import { Problem } from "./problems";

/**
 * The reference Worker's options: the settings from `env`, and its queues' names where its
 * deployment names its own (AUDIT_QUEUE_NAME, STREAM_EVENTS_QUEUE_NAME). Read here, not by
 * `optionsFromEnv`: an app's own variable of that name would hand its queue to the gateway.
 */
function referenceOptions(env: Env): StreamDownloadsOptions<Env> {
  return { ...optionsFromEnv(env), queues: queuesNamedIn(env) };
}

const ROOT = (): Operation => ({ summary: "Where this gateway's API is described (the demo, in development)", security: PUBLIC, responses: { 200: ok("Links", { type: "object" }) } });

/** The Worker with these routes of its own (public/'s files) next to the gateway's. */
export function referenceWorker(routes: Array<Hono<WorkerEnv>>) {
  const app = streamDownloads(referenceOptions);
  for (const own of routes) app.route("/", own);
  // Someone opening the gateway's address: where its API is described, not a 404.
  app.get("/", documented(ROOT), (c) =>
    c.json({ service: "stream-download-gateway", openapi: new URL("/openapi.json", c.req.url).href, health: new URL("/healthz", c.req.url).href }, 200, {
      "cache-control": "no-store",
    }),
  );
  app.notFound((c) => problemResponse(new Problem("not-found", "No such route."), c.req.raw));
  return { app, handler: app.worker(app) };
}

/** A gateway of this Worker's options, for tests that reach inside (its keys, its signer). */
export const gatewayOf = gatewayResolver(referenceOptions, () => true);
