// The gateway as a library: `streamDownloads(options)` returns a Hono app with the whole API
// (downloads, share links and their pages, grant URLs, webhooks, admin, OpenAPI) on relative
// paths, to mount under any prefix of another app: `app.route("/downloads", streamDownloads(…))`.
// Options are an object, or a function of the Worker's `env` (Workers hand `env` to each
// request); they are validated and everything is built once per options object or `env`.
// This file is the package's entry point (package.json "exports" › "."): what it exports is the
// public API.
import { Hono } from "hono";
import type { AppEnv } from "./context";
import { cors } from "./http/cors";
import { mountPath } from "./http/mount";
import { documented, ok, openApiDocument, PUBLIC, type Operation } from "./http/openapi";
import { handleError } from "./http/respond";
import { gatewayResolver, type OptionsSource } from "./options";
import { adminRoutes } from "./routes/admin";
import { downloadRoutes } from "./routes/downloads";
import { shareRoutes } from "./share-links/redeem-routes";
import { shareLinkRoutes } from "./share-links/owner-routes";
import { ticketRoutes } from "./routes/tickets";
import { webhookRoutes } from "./webhooks/routes";
import { scheduled } from "./scheduled";
import { consumeQueue } from "./queue";

export { StreamApiBudget } from "./stream/budget-object";
export { UserQuota } from "./record/quota-object";
export type { AuditEvent } from "./record/audit";
export type { AppEvent, AppEventType } from "./events/events";
export type { QueueMessage } from "./queue";
export type { AppUser } from "./identify/app-token";
export type { EntitlementSource } from "./entitle/entitle";
export type { EntitleAnswer, EntitleHook, HostUser, IdentifyHook, StillEntitledHook } from "./app-hooks";
export type { GatewayBindings } from "./gateway";
export type { OptionsSource, StreamDownloadsOptions } from "./options";
export { Problem, type ProblemType, unauthenticated } from "./problems";
export { RECHECK_CRON } from "./scheduled";

/** The gateway's Hono app, its crons (wrangler.toml [triggers]) for the Worker's `scheduled`, and its audit queue's consumer for `queue`. */
export type StreamDownloadsApp<E extends object> = Hono<{ Bindings: E } & AppEnv> & {
  /** RECHECK_CRON re-checks unfinished downloads; any other cron runs retention. */
  scheduled(controller: ScheduledController, env: E, ctx: ExecutionContext): Promise<void>;
  /** Consumes AUDIT_QUEUE (and its dead-letter queue): audit events to D1, the app's events to EVENTS_URL. */
  queue(batch: MessageBatch<unknown>, env: E, ctx: ExecutionContext): Promise<void>;
};

const HEALTHZ = (): Operation => ({ summary: "Liveness (no I/O)", security: PUBLIC, responses: { 200: ok("Alive", { type: "object" }) } });
const OPENAPI = (): Operation => ({ summary: "This document", security: PUBLIC, responses: { 200: ok("OpenAPI 3.1", { type: "object" }) } });

/** The document of this gateway: its routes, how this configuration identifies users, and where it is mounted. */
function openApiRoutes(app: { routes: Hono["routes"] }): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/openapi.json", documented(OPENAPI), (c) => {
    const { config } = c.get("gateway");
    const { auth } = config;
    const users = auth.kind === "hook" ? { users: "hook" as const, cookieName: null } : { users: "token" as const, cookieName: auth.cookieName };
    const document = openApiDocument(app, { ...users, admin: config.adminTokens.length > 0 });
    return c.json({ ...document, servers: [{ url: mountPath(c) || "/" }] });
  });
}

export function streamDownloads<E extends object = Cloudflare.Env>(source: OptionsSource<E>): StreamDownloadsApp<E> {
  const gatewayOf = gatewayResolver(source);
  const app = new Hono<{ Bindings: E } & AppEnv>();
  // Liveness only: no I/O and no configuration (answered before the gateway is built, so it
  // stays 200 while a setting is wrong), which also makes it the benchmark baseline.
  app.get("/healthz", documented(HEALTHZ), (c) => c.json({ ok: true }));
  app.use("*", async (c, next) => {
    c.set("gateway", gatewayOf(c.env));
    await next();
  });
  // Only the configured web app origins may call the API from a browser, with credentials.
  app.use("/v1/*", cors);
  // Its paths are relative to where the gateway is mounted, which `servers` names.
  app.route("/", openApiRoutes(app));
  app.route("/", downloadRoutes());
  app.route("/v1/admin", adminRoutes());
  app.route("/", shareLinkRoutes());
  app.route("/", shareRoutes());
  app.route("/", ticketRoutes());
  app.route("/", webhookRoutes());
  app.onError(handleError);
  return Object.assign(app, {
    scheduled: (controller: ScheduledController, env: E, ctx: ExecutionContext) => scheduled(controller, gatewayOf(env), ctx),
    queue: (batch: MessageBatch<unknown>, env: E) => consumeQueue(batch, gatewayOf(env), Date.now()),
  });
}
