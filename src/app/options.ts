// The library's options, turned into a Gateway. Typed settings given as an object are validated
// when `streamDownloads` is called, so a wrong option throws at start naming it; options made from
// `env` (where Workers hand secrets, per request) are validated once per `env` and answer 500
// `misconfigured` naming the setting, without taking the host's other routes down. Bindings are
// checked once per `env`, and the default hooks are built for what the app did not bring.
import type { Context } from "hono";
import { HOOK_TIMEOUT_MS, hookGuards, type EntitleHook, type IdentifyHook, type StillEntitledHook } from "./hooks";
import { createVerifier, identifyUser, sameSiteRequest } from "../identify/app-token";
import { parseSettings, SETTINGS, settingsFromEnv, type AuthConfig, type Config, type GatewaySettings } from "../config/config";
import { type AppEnv, deps } from "../gateway/context";
import { createEntitlementCallback } from "../entitle/callback";
import { claimOrGrant, grantStillHeld, type Entitle } from "../entitle/entitle";
import { buildGateway, type Gateway, type GatewayBindings, type Hooks } from "../gateway/gateway";
import { wiringOf, type Wiring } from "../config/wiring";
import { DEFAULT_CRONS, DEFAULT_QUEUES } from "../config/wiring-names";
import { DELIVERIES, type DeliveryMode } from "../deliver/modes";
import { MemoryCache } from "../storage/memory-cache";
import { misconfigured, Problem } from "../problems";

/** The request as the app's hooks see it: its Worker's `env` typed as the app's own. */
export type HostContext<E extends object> = Context<{ Bindings: E }>;

export interface StreamDownloadsOptions<E extends object = Cloudflare.Env> extends GatewaySettings<DeliveryMode> {
  stream: GatewaySettings["stream"] & {
    /** The Stream Workers binding (`[stream] binding = "STREAM"`): then no `apiToken` is needed. */
    binding?: StreamBinding;
  };
  /** D1 (migrations/), the rate limiters, the Durable Objects and the audit queue. Default: the Worker's `env`, by these names. */
  bindings?: GatewayBindings;
  /**
   * Who is calling: the user, or null (401). To say why, throw `unauthenticated(reason)` or Hono's
   * `HTTPException` with a 4xx. Default: the app's JWT (`auth`), bearer, or the cookie on GETs.
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
  /** The crons the gateway acts on (list them in wrangler's [triggers]); any other cron is the host's. Default DEFAULT_CRONS. */
  crons?: Partial<Wiring["crons"]>;
  /** Its queues' names: what `AUDIT_QUEUE` sends to, that queue's dead-letter queue, and the one Stream's events arrive in. Default DEFAULT_QUEUES. */
  queues?: Partial<Wiring["queues"]>;
}

export type OptionsSource<E extends object> = StreamDownloadsOptions<E> | ((env: E) => StreamDownloadsOptions<E>);

/**
 * The options of a Worker configured by its environment: every setting by its variable
 * (docs/configuration.md), the `STREAM` binding if there is one, and the bindings by their names.
 * What the standalone Worker runs on; an app adds its hooks: `{ ...optionsFromEnv(env), identify, entitle }`.
 */
export function optionsFromEnv<E extends object>(env: E): StreamDownloadsOptions<E> {
  const settings = settingsFromEnv<DeliveryMode>(env);
  const binding = (env as { STREAM?: StreamBinding }).STREAM;
  return { ...settings, stream: { ...settings.stream, ...(binding ? { binding } : {}) }, bindings: env as unknown as GatewayBindings };
}

const BINDINGS = ["DB", "USER_RATE_LIMITER", "IP_RATE_LIMITER", "LINK_PASSWORD_LIMITER", "STREAM_BUDGET", "SHARE_LINKS", "AUDIT_QUEUE"] as const;

const HOOKS = ["identify", "entitle", "stillEntitled"] as const;

/**
 * Every option, by group: the settings' paths, and the options that are not settings. A key not
 * here is a typo (JavaScript, or a cast, lets one through), which would silently leave a setting
 * at its default: `downloads.lockToClientIP: true` would not lock anything.
 */
const KNOWN_OPTIONS: ReadonlyMap<string, ReadonlySet<string> | null> = (() => {
  const groups = new Map<string, Set<string> | null>([...HOOKS, "hookTimeoutMs", "bindings"].map((name) => [name, null]));
  groups.set("crons", new Set(Object.keys(DEFAULT_CRONS)));
  groups.set("queues", new Set(Object.keys(DEFAULT_QUEUES)));
  groups.set("stream", new Set(["binding"]));
  for (const [path] of Object.values(SETTINGS)) {
    const [group, key] = path.split(".") as [string, string | undefined];
    if (key === undefined) groups.set(group, null);
    else groups.set(group, (groups.get(group) ?? new Set()).add(key));
  }
  return groups;
})();

function refuseUnknownOptions(options: object): void {
  for (const [name, value] of Object.entries(options)) {
    if (!KNOWN_OPTIONS.has(name)) throw misconfigured(name, `${name} is not an option (docs/configuration.md lists them)`);
    const keys = KNOWN_OPTIONS.get(name);
    if (keys === null || keys === undefined || typeof value !== "object" || value === null) continue;
    for (const key of Object.keys(value)) {
      if (!keys.has(key)) throw misconfigured(`${name}.${key}`, `${name}.${key} is not an option (docs/configuration.md lists them)`);
    }
  }
}

/** What is checked once per options object: the settings, the hooks and their guards, the wiring. */
interface Prepared {
  config: Config;
  options: StreamDownloadsOptions<object>;
  hookTimeoutMs: number;
  wiring: Wiring;
}

function prepare(options: StreamDownloadsOptions<object>): Prepared {
  // Options come from JavaScript too, where nothing checked their types.
  if (typeof options !== "object" || options === null) throw misconfigured("options", "the options must be an object");
  if ("settings" in options) {
    throw misconfigured("settings", "settings was replaced by typed options: spread optionsFromEnv(env) into the options instead (CHANGELOG 0.3.0)");
  }
  refuseUnknownOptions(options);
  for (const hook of HOOKS) {
    if (options[hook] !== undefined && typeof options[hook] !== "function") throw misconfigured(hook, `${hook} must be a function`);
  }
  const { hookTimeoutMs = HOOK_TIMEOUT_MS } = options;
  if (!Number.isInteger(hookTimeoutMs) || hookTimeoutMs < 1 || hookTimeoutMs > 60_000) {
    throw misconfigured("hookTimeoutMs", "hookTimeoutMs must be a whole number of milliseconds from 1 to 60000");
  }
  const config = parseSettings(options, DELIVERIES, {
    identify: options.identify !== undefined,
    entitle: options.entitle !== undefined,
    streamBinding: options.stream?.binding !== undefined,
  });
  return { config, options, hookTimeoutMs, wiring: wiringOf(options) };
}

function build(prepared: Prepared, bindings: Partial<GatewayBindings>, consumerExported: () => boolean): Gateway {
  for (const name of BINDINGS) {
    if (!bindings[name]) throw misconfigured(name, `the binding ${name} is missing`);
  }
  const { config, options, hookTimeoutMs, wiring } = prepared;
  const present = bindings as GatewayBindings;
  const cache = new MemoryCache();
  const guard = hookGuards(hookTimeoutMs);
  const { identify, entitle: appEntitle, stillEntitled } = options;
  const entitle: Entitle<Context> = appEntitle
    ? guard.entitle((user, video, c) => appEntitle(user, video, c))
    : defaultEntitle(config, present, cache);
  return buildGateway(config, present, { stream: options.stream.binding, cache, wiring, consumerExported }, {
    identify: identify ? withoutForeignCookie(guard.identify((c, how) => identify(c, how))) : defaultIdentify(config.auth),
    entitle,
    stillEntitled: stillEntitled
      ? guard.stillEntitled((link, c) => stillEntitled(link, c))
      : config.entitlement.kind === "claims-and-grants"
        ? (link, c) => grantStillHeld(deps(c as Context<AppEnv>), link)
        : async (link, c) => (await entitle({ id: link.creator, claims: {} }, link.video, c)) !== null,
  });
}

/**
 * A request another site started is told not to take the cookie, as the default identify does,
 * so that an app's cookie session cannot be spent by a link on someone else's page.
 */
function withoutForeignCookie(identify: Hooks["identify"]): Hooks["identify"] {
  return (c, how) => identify(c, { allowCookie: how.allowCookie && sameSiteRequest(c.req.raw) });
}

/** The app's JWT, verified as `auth` says. */
function defaultIdentify(auth: AuthConfig): Hooks["identify"] {
  if (auth.kind === "hook") throw new Error("unreachable: an identify hook was given");
  const verifier = createVerifier(auth);
  return (c, how) => identifyUser(c.req.raw, verifier, how);
}

/** The `videos` claim then D1 grants, or the app's backend at `entitlement.url`. */
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

/**
 * The gateway of these options for a Worker's `env`: built on first use, then reused (also when
 * it failed). Options given as an object are checked now, and throw naming the option.
 * `consumerExported` says whether the Worker exports the gateway's queue handler (audit-queue.ts).
 */
export function gatewayResolver<E extends object>(source: OptionsSource<E>, consumerExported: () => boolean): (env: E) => Gateway {
  const built = new WeakMap<object, Gateway | Problem>();
  const fixed = typeof source === "function" ? null : prepare(source as unknown as StreamDownloadsOptions<object>);
  return (env) => {
    let gateway = built.get(env);
    if (gateway === undefined) {
      try {
        if (fixed !== null) gateway = build(fixed, fixed.options.bindings ?? (env as unknown as GatewayBindings), consumerExported);
        else {
          const options = (source as (env: E) => StreamDownloadsOptions<E>)(env) as unknown as StreamDownloadsOptions<object>;
          gateway = build(prepare(options), options.bindings ?? (env as unknown as GatewayBindings), consumerExported);
        }
      } catch (error) {
        if (!(error instanceof Problem)) throw error;
        gateway = error;
      }
      built.set(env, gateway);
    }
    if (gateway instanceof Problem) throw gateway;
    return gateway;
  };
}
