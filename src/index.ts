// Builds the gateway: middleware, route mounting and the one error handler. Nothing else.
import { Hono } from "hono";
import type { AppEnv } from "./context";
import { assetRoutes } from "./demo/assets";
import { demoRoutes } from "./demo/routes";
import { cors } from "./http/cors";
import { mountPath } from "./http/mount";
import { problemResponse } from "./http/respond";
import { openApiDocument } from "./openapi";
import { Problem, retryLater } from "./problems";
import { adminRoutes } from "./routes/admin";
import { downloadRoutes } from "./routes/downloads";
import { shareRoutes } from "./routes/share";
import { shareLinkRoutes } from "./routes/share-links";
import { ticketRoutes } from "./routes/tickets";
import { webhookRoutes } from "./routes/webhooks";
import { scheduled } from "./scheduled";

const app = new Hono<AppEnv>();

/** What clients are told to wait after D1 failed them. */
const STORAGE_RETRY_SECONDS = 5;

// Only the configured web app origins may call the API from a browser, with credentials.
app.use("/v1/*", cors);


// Liveness only: no I/O, so it is also the benchmark baseline.
app.get("/healthz", (c) => c.json({ ok: true }));
// Its paths are relative to where the gateway is mounted, which `servers` names.
app.get("/openapi.json", (c) => c.json({ ...openApiDocument(), servers: [{ url: mountPath(c) || "/" }] }));

app.route("/", downloadRoutes);
app.route("/v1/admin", adminRoutes);
app.route("/", shareLinkRoutes);
app.route("/", shareRoutes);
app.route("/", ticketRoutes);
app.route("/", webhookRoutes);
// public/ (Workers Static Assets): the download-button helper always, the demo page in development.
app.route("/", assetRoutes);
app.route("/", demoRoutes);

app.notFound((c) => problemResponse(new Problem("not-found", "No such route."), c.req.raw));

app.onError((error, c) => {
  if (error instanceof Problem) return problemResponse(error, c.req.raw);
  // D1 failing (an outage, an overloaded database) is not the client's fault nor a bug of ours:
  // a retryable 503. Grants record before they deliver, so nothing was handed out.
  if (error instanceof Error && error.message.startsWith("D1_")) {
    console.error("D1 failed", c.req.method, new URL(c.req.url).pathname, error.message);
    return problemResponse(retryLater("upstream-unavailable", "The gateway's database is unavailable.", STORAGE_RETRY_SECONDS), c.req.raw);
  }
  // Anything else is our bug: logged for us, answered without internals.
  console.error("unhandled error", c.req.method, new URL(c.req.url).pathname, error);
  return problemResponse(new Problem("internal", "Something went wrong on our side."), c.req.raw);
});

/** The Hono app itself, for tests that inspect its routes (openapi.test.ts). */
export { app };
export { StreamApiBudget } from "./stream/budget-object";

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
