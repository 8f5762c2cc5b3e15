// The library's options, turned into a Gateway once per options object or `env`: the bindings
// checked, the settings validated (those an app's hooks or bindings replace are not read), and
// the default hooks built for what the app did not bring.
import type { Context } from "hono";
import { HOOK_TIMEOUT_MS, hookGuards, type EntitleHook, type IdentifyHook, type StillEntitledHook } from "./app-hooks";
import { createVerifier, identifyUser, sameSiteRequest } from "./identify/app-token";
import { parseConfig, type AuthConfig, type Config } from "./config";
import { type AppEnv, deps } from "./context";
import { createEntitlementCallback } from "./entitle/callback";
import { claimOrGrant, grantStillHeld, type Entitle } from "./entitle/entitle";
import { buildGateway, type Gateway, type GatewayBindings, type Hooks } from "./gateway";
import { MemoryCache } from "./memory-cache";
import { misconfigured, Problem } from "./problems";

/** The request as the app's hooks see it: its Worker's `env` typed as the app's own. */
export type HostContext<E extends object> = Context<{ Bindings: E }>;

export interface StreamDownloadsOptions<E extends object = Cloudflare.Env> {
  /** Every setting by its name in docs/configuration.md, as strings (wrangler vars and secrets are). */
  settings: object;
  /** D1 (migrations/), the three rate limiters and the Stream API budget's Durable Object. */
  bindings: GatewayBindings;
  /**
   * Who is calling: the user, or null (401). To say why, throw `unauthenticated(reason)` or Hono's
   * `HTTPException` with a 4xx. Default: the app's JWT (AUTH_JWKS_URL or AUTH_HS256_SECRET),
   * bearer, or the cookie on GETs.
   */
  identify?: IdentifyHook<HostContext<E>>;
  /** May the user download the video: "grant" or true, "claim", or null or false. Default: the videos claim, then D1 grants. */
  entitle?: EntitleHook<HostContext<E>>;
  /**
   * Does a link's creator still hold the "grant" right the link was made under? Asked whenever
   * such a link is used, with the link holder's request. Default: `entitle` asked again for the
   * creator (with no claims); give this to also compare when the right began with
   * `link.createdAt`, so that a right lost and bought again does not revive older links.
   */
  stillEntitled?: StillEntitledHook<HostContext<E>>;
  /** How long a hook may take, in milliseconds, before its request is answered 503 (default 5000). */
  hookTimeoutMs?: number;
}

export type OptionsSource<E extends object> = StreamDownloadsOptions<E> | ((env: E) => StreamDownloadsOptions<E>);

const BINDINGS = ["DB", "USER_RATE_LIMITER", "IP_RATE_LIMITER", "LINK_PASSWORD_LIMITER", "STREAM_BUDGET", "AUDIT_QUEUE"] as const;

const HOOKS = ["identify", "entitle", "stillEntitled"] as const;

function build<E extends object>(options: StreamDownloadsOptions<E>): Gateway {
  // Options come from JavaScript too, where nothing checked their types.
  if (typeof options?.settings !== "object" || options.settings === null) throw misconfigured("settings", "settings must be an object of the settings by name");
  for (const hook of HOOKS) {
    if (options[hook] !== undefined && typeof options[hook] !== "function") throw misconfigured(hook, `${hook} must be a function`);
  }
  const { hookTimeoutMs = HOOK_TIMEOUT_MS } = options;
  if (!Number.isInteger(hookTimeoutMs) || hookTimeoutMs < 1 || hookTimeoutMs > 60_000) {
    throw misconfigured("hookTimeoutMs", "hookTimeoutMs must be a whole number of milliseconds from 1 to 60000");
  }
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
  const guard = hookGuards(hookTimeoutMs);
  const { identify, entitle: appEntitle, stillEntitled } = options;
  const entitle: Entitle<Context> = appEntitle
    ? guard.entitle((user, video, c) => appEntitle(user, video, asHost<E>(c)))
    : defaultEntitle(config, bindings, cache);
  return buildGateway(config, bindings, cache, {
    identify: identify ? withoutForeignCookie(guard.identify((c, how) => identify(asHost<E>(c), how))) : defaultIdentify(config.auth),
    entitle,
    stillEntitled: stillEntitled
      ? guard.stillEntitled((link, c) => stillEntitled(link, asHost<E>(c)))
      : config.entitlement.kind === "claims-and-grants"
        ? (link, c) => grantStillHeld(deps(c as Context<AppEnv>), link)
        : async (link, c) => (await entitle({ id: link.creator, claims: {} }, link.video, c)) !== null,
  });
}

/** The request the gateway hands an app's hook is the app's own, whose `env` is the app's E. */
const asHost = <E extends object>(c: Context) => c as unknown as HostContext<E>;

/**
 * A request another site started is told not to take the cookie, as the default identify does,
 * so that an app's cookie session cannot be spent by a link on someone else's page.
 */
function withoutForeignCookie(identify: Hooks["identify"]): Hooks["identify"] {
  return (c, how) => identify(c, { allowCookie: how.allowCookie && sameSiteRequest(c.req.raw) });
}

/** The app's JWT, verified as AUTH_* says. */
function defaultIdentify(auth: AuthConfig): Hooks["identify"] {
  if (auth.kind === "hook") throw new Error("unreachable: an identify hook was given");
  const verifier = createVerifier(auth);
  return (c, how) => identifyUser(c.req.raw, verifier, how);
}

/** The `videos` claim then D1 grants, or the app's backend at ENTITLEMENT_URL. */
function defaultEntitle(config: Config, bindings: GatewayBindings, cache: MemoryCache): Entitle<Context> {
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
