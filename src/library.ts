// The gateway as a library: `streamDownloads(options)` returns a Hono app with the whole API
// (downloads, share links and their pages, grant URLs, webhooks, admin, OpenAPI) on relative
// paths, to mount under any prefix of another app: `app.route("/downloads", streamDownloads(…))`.
// Options are an object (validated at once), or a function of the Worker's `env` (Workers hand
// `env`, and so secrets, to each request; validated once per `env`).
// This file is the package's entry point (package.json "exports" › "."): what it exports is the
// public API.
import { Hono } from "hono";
import type { GatewaySettings as Settings } from "./config/config";
import type { DeliveryMode } from "./deliver/modes";
import type { AppEnv } from "./gateway/context";
import { cors } from "./routes/cors";
import { mountPath } from "./http/mount";
import { documented, ok, openApiDocument, PUBLIC, type Operation } from "./routes/openapi";
import { handleError } from "./routes/respond";
import { gatewayResolver, type OptionsSource } from "./app/options";
import { adminRoutes } from "./routes/admin";
import { downloadRoutes } from "./routes/downloads";
import { shareRoutes } from "./routes/share-page";
import { shareLinkRoutes } from "./routes/share-links";
import { ticketRoutes } from "./routes/tickets";
import { webhookRoutes } from "./routes/webhooks";
import { scheduled } from "./app/scheduled";
import { consumeQueue, gatewayQueue } from "./app/queue";
import { DEFAULT_QUEUES, gatewayQueueNames } from "./config/wiring-names";
import { gatewayAdmin, type GatewayAdmin } from "./admin/actions";
import { Problem } from "./problems";
import type { Gateway } from "./gateway/gateway";
import { serveLinkObjects } from "./share-links/link-object";

export * from "./app/objects";
export type { AuditEvent } from "./record/audit";
export type { AppEvent, AppEventType } from "./events/events";
export type { QueueMessage } from "./gateway/gateway";
export type { AppUser } from "./identify/app-token";
export type { EntitlementSource } from "./entitle/entitle";
export type { EntitleAnswer, EntitleHook, HostUser, IdentifyHook, StillEntitledHook } from "./app/hooks";
export type { GatewayBindings } from "./gateway/gateway";
export { optionsFromEnv, type OptionsSource, type StreamDownloadsOptions } from "./app/options";
export type { DownloadType } from "./config/config";
export type { DeliveryMode } from "./deliver/modes";
/** The settings as options (docs/configuration.md), with this gateway's delivery modes. */
export type GatewaySettings = Settings<DeliveryMode>;
export { Problem, type ProblemType, unauthenticated } from "./problems";
export type { Wiring } from "./config/wiring";
export { DEFAULT_CRONS, DEFAULT_QUEUES } from "./config/wiring-names";
export type { AuditPage, AuditQuery, GatewayAdmin, GrantInput } from "./admin/actions";

/** A Worker's own handlers, for what is not the gateway's. */
export interface HostHandlers<E> {
  scheduled?(controller: ScheduledController, env: E, ctx: ExecutionContext): void | Promise<void>;
  queue?(batch: MessageBatch<unknown>, env: E, ctx: ExecutionContext): void | Promise<void>;
}

/** A Worker's default export with the gateway's crons and queues in it. */
export interface GatewayWorker<E> {
  fetch(request: Request, env: E, ctx: ExecutionContext): Response | Promise<Response>;
  scheduled(controller: ScheduledController, env: E, ctx: ExecutionContext): Promise<void>;
  queue(batch: MessageBatch<unknown>, env: E, ctx: ExecutionContext): Promise<void>;
}

/**
 * The gateway's Hono app, with what the Worker must export besides `fetch`. Its context variables
 * are the gateway's own: the type leaves them out.
 */
export type StreamDownloadsApp<E extends object> = Hono<{ Bindings: E }> & {
  /**
   * The Worker's default export: `fetch` from the host's app (which mounts this one), the gateway's
   * crons and audit queue, and the host's own crons and queues passed on to `own`. Exporting
   * `app` alone would leave the audit queue without a consumer: the gateway then writes each event
   * to D1 itself, one write per download, and logs the misconfiguration (docs/operations.md › Wiring).
   */
  worker(app: { fetch(request: Request, env: E, ctx: ExecutionContext): Response | Promise<Response> }, own?: HostHandlers<E>): GatewayWorker<E>;
  /** Runs the gateway's crons (the `crons` option); any other cron does nothing. */
  scheduled(controller: ScheduledController, env: E, ctx: ExecutionContext): Promise<void>;
  /** Consumes the gateway's queues (the `queues` option): audit events to D1, the app's events to EVENTS_URL. Another queue's batch is refused (retried). */
  queue(batch: MessageBatch<unknown>, env: E, ctx: ExecutionContext): Promise<void>;
  /**
   * What the admin API does, in code, for the app's own handlers (a refund, a moderation tool): no
   * HTTP, no token. Throws the gateway's `Problem` for a bad input or setting.
   */
  admin(env: E): GatewayAdmin;
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
  // Set when the Worker's default export is built (at module load, before any request).
  let consumerExported = false;
  const gatewayOf = gatewayResolver(source, () => consumerExported);
  serveLinkObjects((env) => gatewayOf(env as E).audit);
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
  const queue = (batch: MessageBatch<unknown>, env: E) => consumeQueue(batch, gatewayOf(env), Date.now());
  // The public type leaves the gateway's context variables out (StreamDownloadsApp).
  return Object.assign(app as unknown as Hono<{ Bindings: E }>, {
    scheduled: async (controller: ScheduledController, env: E, ctx: ExecutionContext) => {
      await scheduled(controller, gatewayOf(env), ctx);
    },
    queue,
    admin: (env: E): GatewayAdmin => {
      const gateway = gatewayOf(env);
      // The clock is read when an action runs: one admin object may serve a long-lived handler.
      const now = () => gatewayAdmin({ ...gateway, db: gateway.database, now: Date.now() });
      return {
        grant: (grants) => now().grant(grants),
        revokeGrants: (grants) => now().revokeGrants(grants),
        revokeLink: (id) => now().revokeLink(id),
        revokeLinks: (of) => now().revokeLinks(of),
        block: (video, reason) => now().block(video, reason),
        unblock: (video) => now().unblock(video),
        audit: (query) => now().audit(query),
      };
    },
    worker: (host: Parameters<StreamDownloadsApp<E>["worker"]>[0], own: HostHandlers<E> = {}): GatewayWorker<E> => {
      consumerExported = true;
      return {
        fetch: (request, env, ctx) => host.fetch(request, env, ctx),
        // Every cron reaches the host's handler too: its own job may share an expression with one of the gateway's.
        async scheduled(controller, env, ctx) {
          await ownedBy(gatewayOf, env, (gateway) => scheduled(controller, gateway, ctx));
          await own.scheduled?.(controller, env, ctx);
        },
        async queue(batch, env, ctx) {
          if (await ownedBy(gatewayOf, env, async (gateway) => gatewayQueue(batch, gateway) && (await consumeQueue(batch, gateway, Date.now()), true))) return;
          // A gateway that cannot be built takes nothing; its batches are retried, never handed to the host.
          if (own.queue === undefined || defaultQueue(batch.queue)) {
            throw new Error(`queue: ${batch.queue} is neither a queue the gateway consumes now nor handled by the Worker's own queue handler`);
          }
          await own.queue(batch, env, ctx);
        },
      };
    },
  });
}

/** The default names of the gateway's queues: a batch of one is never the host's, even while the gateway cannot be built. */
const defaultQueue = (name: string) => gatewayQueueNames(DEFAULT_QUEUES).includes(name);

/**
 * Whether the gateway took the event. A gateway that cannot be built (a wrong setting, logged)
 * takes nothing, so the host's own crons and queues keep working.
 */
async function ownedBy<E extends object>(gatewayOf: (env: E) => Gateway, env: E, take: (gateway: Gateway) => Promise<boolean>): Promise<boolean> {
  let gateway: Gateway;
  try {
    gateway = gatewayOf(env);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    console.error(`misconfigured: the gateway cannot run its crons or queues: ${error.detail}`);
    return false;
  }
  return take(gateway);
}
