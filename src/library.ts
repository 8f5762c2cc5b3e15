// The gateway as a library: `streamDownloads(options)` returns a Hono app with the whole API
// (downloads, share links and their pages, grant URLs, webhooks, admin, OpenAPI) on relative
// paths, to mount under any prefix of another app: `app.route("/downloads", streamDownloads(…))`.
// Options are an object, or a function of the Worker's `env` (Workers hand `env` to each
// request); they are validated and everything is built once per options object or `env`.
import { Hono, type Context } from "hono";
import { createVerifier, identifyUser } from "./auth/identify";
import { parseConfig, type AuthConfig, type Config } from "./config";
import { type AppEnv, deps } from "./context";
import { createEntitlementCallback } from "./entitlement/callback";
import { claimOrGrant, grantStillHeld, type EntitleHook, type StillEntitledHook } from "./entitlement/entitle";
import { buildGateway, type Gateway, type GatewayBindings, type Hooks, type IdentifyHook } from "./gateway";
import { cors } from "./http/cors";
import { mountPath } from "./http/mount";
import { MemoryCache } from "./memory-cache";
import { problemResponse } from "./http/respond";
import { openApiDocument } from "./openapi";
import { misconfigured, Problem, retryLater, unauthenticated } from "./problems";
import { adminRoutes } from "./routes/admin";
import { downloadRoutes } from "./routes/downloads";
import { shareRoutes } from "./routes/share";
import { shareLinkRoutes } from "./routes/share-links";
import { ticketRoutes } from "./routes/tickets";
import { webhookRoutes } from "./routes/webhooks";

// What the package exports (package.json "exports" › "."): the factory, the Durable Object class
// the STREAM_BUDGET binding names, and the types an app's hooks are written against.
export { StreamApiBudget } from "./stream/budget-object";
export type { AppUser } from "./auth/identify";
export type { EntitleHook, EntitlementSource, StillEntitledHook } from "./entitlement/entitle";
export type { GatewayBindings, IdentifyHook } from "./gateway";
export { Problem, type ProblemType, unauthenticated } from "./problems";

export interface StreamDownloadsOptions {
  /** Every setting by its name in docs/configuration.md, as strings (wrangler vars and secrets are). */
  settings: object;
  /** D1 (migrations/), the three rate limiters and the Stream API budget's Durable Object. */
  bindings: GatewayBindings;
  /** Who is calling. Default: the app's JWT (AUTH_JWKS_URL or AUTH_HS256_SECRET), bearer, or the cookie on GETs. */
  identify?: IdentifyHook;
  /** May the user download the video, and how ("claim" or "grant"), or null. Default: the videos claim, then D1 grants. */
  entitle?: EntitleHook<Context>;
  /** Does a link's creator still hold a "grant" right? Default: your `entitle` asked again, or the D1 grant. */
  stillEntitled?: StillEntitledHook<Context>;
}

export type OptionsSource<E> = StreamDownloadsOptions | ((env: E) => StreamDownloadsOptions);

const BINDINGS = ["DB", "USER_RATE_LIMITER", "IP_RATE_LIMITER", "LINK_PASSWORD_LIMITER", "STREAM_BUDGET"] as const;

/** What clients are told to wait after D1 failed them. */
const STORAGE_RETRY_SECONDS = 5;

function build(options: StreamDownloadsOptions): Gateway {
  const { bindings } = options;
  for (const name of BINDINGS) {
    if (!bindings?.[name]) throw misconfigured(name, `the binding ${name} is missing`);
  }
  const config = parseConfig(options.settings, {
    identify: options.identify !== undefined,
    entitle: options.entitle !== undefined,
    streamBinding: bindings.STREAM !== undefined,
  });
  const cache = new MemoryCache();
  const entitle = options.entitle ?? defaultEntitle(config, bindings, cache);
  return buildGateway(config, bindings, cache, {
    identify: options.identify ? signedIn(options.identify) : defaultIdentify(config.auth),
    entitle,
    stillEntitled:
      options.stillEntitled ??
      (config.entitlement.kind === "claims-and-grants"
        ? (link, c) => grantStillHeld(deps(c as Context<AppEnv>), link)
        : async (link, c) => (await entitle({ id: link.creator, claims: {} }, link.video, c)) !== null),
  });
}

/** The app's hook, with nobody signed in answered as a 401. */
function signedIn(identify: IdentifyHook): Hooks["identify"] {
  return async (c, how) => {
    const user = await identify(c, how);
    if (user === null) throw unauthenticated("no credentials");
    return user;
  };
}

/** The app's JWT, verified as AUTH_* says. */
function defaultIdentify(auth: AuthConfig): Hooks["identify"] {
  if (auth.kind === "hook") throw new Error("unreachable: an identify hook was given");
  const verifier = createVerifier(auth);
  return (c, how) => identifyUser(c.req.raw, verifier, how);
}

/** The `videos` claim then D1 grants, or the app's backend at ENTITLEMENT_URL. */
function defaultEntitle(config: Config, bindings: GatewayBindings, cache: MemoryCache): EntitleHook<Context> {
  const { entitlement } = config;
  switch (entitlement.kind) {
    case "claims-and-grants":
      return (user, video, c) => claimOrGrant(deps(c as Context<AppEnv>), entitlement.videosClaim, user, video);
    case "callback": {
      const service = bindings.ENTITLEMENT_SERVICE;
      const ask = createEntitlementCallback(entitlement, service ? (request) => service.fetch(request) : (request) => fetch(request), cache);
      return (user, video, c) => ask(user, video, deps(c as Context<AppEnv>).now);
    }
    case "hook":
      throw new Error("unreachable: an entitle hook was given");
  }
}

/** The gateway of these options for this `env`: built on first use, then reused (also when it failed). */
export function gatewayResolver<E extends object>(source: OptionsSource<E>): (env: E) => Gateway {
  const built = new WeakMap<object, Gateway | Problem>();
  return (env) => {
    const key = typeof source === "function" ? env : source;
    let gateway = built.get(key);
    if (gateway === undefined) {
      try {
        gateway = build(typeof source === "function" ? source(env) : source);
      } catch (error) {
        if (!(error instanceof Problem)) throw error;
        gateway = error;
      }
      built.set(key, gateway);
    }
    if (gateway instanceof Problem) throw gateway;
    return gateway;
  };
}

/** Problems as RFC 9457; D1 failing as a retryable 503; anything else a logged 500 without internals. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof Problem) return problemResponse(error, c.req.raw);
  // D1 failing (an outage, an overloaded database) is not the client's fault nor a bug of ours:
  // a retryable 503. Grants record before they deliver, so nothing was handed out.
  if (error.message.startsWith("D1_")) {
    console.error("D1 failed", c.req.method, new URL(c.req.url).pathname, error.message);
    return problemResponse(retryLater("upstream-unavailable", "The gateway's database is unavailable.", STORAGE_RETRY_SECONDS), c.req.raw);
  }
  console.error("unhandled error", c.req.method, new URL(c.req.url).pathname, error);
  return problemResponse(new Problem("internal", "Something went wrong on our side."), c.req.raw);
}

export function streamDownloads<E extends object = Env>(source: OptionsSource<E>): Hono<{ Bindings: E } & AppEnv> {
  const gatewayOf = gatewayResolver(source);
  const app = new Hono<{ Bindings: E } & AppEnv>();
  // Liveness only: no I/O and no configuration (answered before the gateway is built, so it
  // stays 200 while a setting is wrong), which also makes it the benchmark baseline.
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.use("*", async (c, next) => {
    c.set("gateway", gatewayOf(c.env));
    await next();
  });
  // Only the configured web app origins may call the API from a browser, with credentials.
  app.use("/v1/*", cors);
  // Its paths are relative to where the gateway is mounted, which `servers` names.
  app.get("/openapi.json", (c) => c.json({ ...openApiDocument(), servers: [{ url: mountPath(c) || "/" }] }));
  app.route("/", downloadRoutes);
  app.route("/v1/admin", adminRoutes);
  app.route("/", shareLinkRoutes);
  app.route("/", shareRoutes);
  app.route("/", ticketRoutes);
  app.route("/", webhookRoutes);
  app.onError(handleError);
  return app;
}
