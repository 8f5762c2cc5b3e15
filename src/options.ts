// The library's options, turned into a Gateway once per options object or `env`: the bindings
// checked, the settings validated (those an app's hooks or bindings replace are not read), and
// the default hooks built for what the app did not bring.
import type { Context } from "hono";
import { createVerifier, identifyUser } from "./auth/identify";
import { parseConfig, type AuthConfig, type Config } from "./config";
import { type AppEnv, deps } from "./context";
import { createEntitlementCallback } from "./entitlement/callback";
import { claimOrGrant, grantStillHeld, type EntitleHook, type StillEntitledHook } from "./entitlement/entitle";
import { buildGateway, type Gateway, type GatewayBindings, type Hooks, type IdentifyHook } from "./gateway";
import { MemoryCache } from "./memory-cache";
import { misconfigured, Problem, unauthenticated } from "./problems";

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
