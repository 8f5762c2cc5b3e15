// Every setting of the gateway, parsed and validated once per isolate into one typed Config.
// A bad or missing setting becomes a `misconfigured` problem that names the setting, never its
// value (values include secrets).
import * as z from "../input/zod";
import { isCountryCode } from "./countries";
import { misconfigured as misconfiguredProblem, type Problem } from "../problems";
import { isLanguage, LANGUAGES, type Language } from "../language/catalogue";

export const DOWNLOAD_TYPES = ["default", "audio"] as const;
export type DownloadType = (typeof DOWNLOAD_TYPES)[number];

/** What an app token must satisfy besides its signature. */
export interface TokenRules {
  issuer: string | null;
  audience: string | null;
  /** The cookie that may carry the token on GETs, or null for bearer only. */
  cookieName: string | null;
}

/**
 * How callers are identified: the app's JWTs, verified with its JWKS or a shared HS256 secret,
 * or the app's own `identify` hook (library options), which needs no AUTH_* setting.
 */
export type AuthConfig =
  | ({ kind: "jwks"; jwksUrl: URL } & TokenRules)
  | ({ kind: "hs256"; secret: Uint8Array } & TokenRules)
  | { kind: "hook" };

/**
 * Who decides whether a user may download a video: the `videos` claim then D1 grants, the app's
 * backend asked over HTTP (ENTITLEMENT_URL), or the app's own `entitle` hook (library options).
 */
export type EntitlementConfig =
  | { kind: "claims-and-grants"; videosClaim: string }
  | { kind: "callback"; url: URL; secret: Uint8Array; cacheSeconds: number }
  | { kind: "hook" };

/**
 * The delivery modes the gateway has (deliver/modes.ts), by name: DELIVERY_MODES may list only
 * these. Given to the parser, since the modes are the deliver step's and this module is below it.
 */
export type KnownModes = Readonly<Record<string, { readonly throughGateway: boolean }>>;

/** What the app brought besides settings: hooks and bindings that replace some settings, which are then not read. */
export interface Provided {
  identify: boolean;
  entitle: boolean;
  /** The Stream Workers binding (STREAM): STREAM_API_TOKEN and STREAM_API_BASE are then not read. */
  streamBinding: boolean;
}

const NOTHING_PROVIDED: Provided = { identify: false, entitle: false, streamBinding: false };

export interface Config {
  stream: {
    accountId: string;
    /** How the gateway calls Stream: REST with an API token, or the Stream Workers binding (no token held). */
    api: { kind: "rest"; apiBase: string; apiToken: string } | { kind: "binding" };
    deliveryBase: string;
    keyId: string;
    keyJwk: JsonWebKey;
    timeoutMs: number;
  };
  auth: AuthConfig;
  entitlement: EntitlementConfig;
  adminTokens: string[];
  corsOrigins: string[];
  tokenTtlSeconds: number;
  readyTtlSeconds: number;
  memoryCacheSeconds: number;
  pollIntervalSeconds: number;
  allowPublicVideos: boolean;
  lockToClientIp: boolean;
  allowedCountries: ReadonlySet<string> | null;
  blockedCountries: ReadonlySet<string> | null;
  /** The enabled delivery modes, by name: each one of the known modes the settings were parsed with. */
  deliveryModes: ReadonlySet<string>;
  dailyDownloadQuota: number | null;
  shareLinkMaxTtlSeconds: number;
  /** Live links one user may hold at once (SHARE_LINK_MAX_ACTIVE). */
  shareLinkMaxActive: number;
  /** A new link's leak limits unless it sets its own (SHARE_LINK_MAX_NETWORKS, SHARE_LINK_MAX_COUNTRIES); null: none. */
  shareLinkLeak: { maxNetworks: number | null; maxCountries: number | null; windowSeconds: number };
  /**
   * Stream API calls per 5 minutes: the gateway's (STREAM_API_BUDGET), and at most what one user
   * (STREAM_API_USER_SHARE) or one network (STREAM_API_NETWORK_SHARE) may cause of them.
   */
  streamApiBudget: { limit: number; userShare: number; networkShare: number };
  webhookSecret: string | null;
  prepareDownloads: ReadonlyArray<DownloadType>;
  auditRetentionDays: number;
  /** The first retry of an audit batch D1 refused waits this long, each next one twice as long (AUDIT_RETRY_SECONDS). */
  auditRetrySeconds: number;
  /** How the share pages present the app (BRAND_NAME, BRAND_LOGO_URL, BRAND_ACCENT). */
  brand: Brand;
  /** The one language of the share pages (RECIPIENT_LANGUAGE); null: each visitor's Accept-Language chooses. */
  recipientLanguage: Language | null;
  /** Where download and link events are POSTed (EVENTS_URL, EVENTS_SECRET); null: no events. */
  events: EventsConfig | null;
}

export interface Brand {
  name: string | null;
  logoUrl: URL | null;
  /** A CSS colour, #rgb or #rrggbb. */
  accent: string;
}

export interface EventsConfig {
  url: URL;
  /** The bytes of the `whsec_` secret the events are signed with. */
  secret: Uint8Array;
}

/**
 * The library's settings (docs/configuration.md names each with its environment variable).
 * Durations are in seconds unless named otherwise; every setting but `stream`'s five is optional.
 */
export interface GatewaySettings<Mode extends string = string> {
  stream: {
    /** Cloudflare account id (32 hex). */
    accountId: string;
    /** Signing key id (`POST …/stream/keys` → `id`). */
    keyId: string;
    /** The signing key: the base64 JWK exactly as Stream returned it, or the JWK object. */
    keyJwk: string | JsonWebKey;
    /** `https://customer-<code>.cloudflarestream.com`. */
    deliveryBase: string;
    /** An API token with Stream Write; not needed with the `STREAM` binding. */
    apiToken?: string;
    /** Default `https://api.cloudflare.com/client/v4`. */
    apiBase?: string;
    /** Per Stream call, default 5000. */
    timeoutMs?: number;
    /** Stream API calls per 5 minutes for the whole gateway, default 900. */
    apiBudget?: number;
    /** Of those, at most this many for one user, default 10. */
    apiUserShare?: number;
    /** And for one network (IPv4 address, IPv6 /64), default 200. */
    apiNetworkShare?: number;
    /** The `secret` of Stream's webhook subscription; none: the webhook receiver is off. */
    webhookSecret?: string;
  };
  /** The app's JWTs: not read when an `identify` hook is given. */
  auth?: { jwksUrl?: string; hs256Secret?: string; issuer?: string; audience?: string; cookieName?: string; videosClaim?: string };
  /** The app's backend asked per user and video: not read when an `entitle` hook is given. */
  entitlement?: { url?: string; secret?: string; cacheSeconds?: number };
  /** One token, or two during a rotation; none: the admin API is off. */
  adminTokens?: string[];
  /** Web app origins that may call the API from a browser with credentials. */
  corsOrigins?: string[];
  downloads?: {
    /** Minted token lifetime, default 3600, at most 86100. */
    tokenTtlSeconds?: number;
    readyTtlSeconds?: number;
    pollIntervalSeconds?: number;
    /** The delivery modes offered; default every one. */
    modes?: Mode[];
    allowPublicVideos?: boolean;
    lockToClientIp?: boolean;
    allowedCountries?: string[];
    blockedCountries?: string[];
    /** Downloads created as soon as Stream's webhook says a video is ready. */
    prepare?: DownloadType[];
  };
  quota?: {
    /** Downloads per user per UTC day; 0 (default): none. Needs the USER_QUOTA binding. */
    daily?: number;
  };
  shareLinks?: { maxTtlSeconds?: number; maxActive?: number; maxNetworks?: number; maxCountries?: number; leakWindowSeconds?: number };
  brand?: { name?: string; logoUrl?: string; accent?: string };
  /** The share pages' one language ("en", "de", "fr", "es" or "ja"); none: each visitor's browser chooses. */
  recipientLanguage?: string;
  /** Where the app hears about downloads and links (Standard Webhooks); none: no events. */
  events?: { url?: string; secret?: string };
  audit?: { retentionDays?: number; retrySeconds?: number };
  memoryCacheSeconds?: number;
}

/** Every option path of GatewaySettings, as `group.key` or `key`. */
type SettingPath = {
  [G in keyof GatewaySettings]-?: NonNullable<GatewaySettings[G]> extends readonly unknown[] | string | number | boolean
    ? G
    : `${G & string}.${keyof NonNullable<GatewaySettings[G]> & string}`;
}[keyof GatewaySettings];

/** Stream refuses tokens more than 24 h ahead; 5 minutes of margin for clock skew. */
export const MAX_TOKEN_TTL_SECONDS = 86_100;

/**
 * Every setting, once: its environment variable (the standalone Worker's name, and what
 * `optionsFromEnv` reads), its place in the library's options, and its kind.
 */
export const SETTINGS = {
  STREAM_ACCOUNT_ID: ["stream.accountId", "text"],
  STREAM_API_TOKEN: ["stream.apiToken", "text"],
  STREAM_API_BASE: ["stream.apiBase", "text"],
  STREAM_KEY_ID: ["stream.keyId", "text"],
  STREAM_KEY_JWK: ["stream.keyJwk", "jwk"],
  STREAM_DELIVERY_BASE: ["stream.deliveryBase", "text"],
  STREAM_TIMEOUT_MS: ["stream.timeoutMs", "integer"],
  STREAM_API_BUDGET: ["stream.apiBudget", "integer"],
  STREAM_API_USER_SHARE: ["stream.apiUserShare", "integer"],
  STREAM_API_NETWORK_SHARE: ["stream.apiNetworkShare", "integer"],
  STREAM_WEBHOOK_SECRET: ["stream.webhookSecret", "text"],
  AUTH_JWKS_URL: ["auth.jwksUrl", "text"],
  AUTH_HS256_SECRET: ["auth.hs256Secret", "text"],
  AUTH_ISSUER: ["auth.issuer", "text"],
  AUTH_AUDIENCE: ["auth.audience", "text"],
  AUTH_COOKIE_NAME: ["auth.cookieName", "text"],
  AUTH_VIDEOS_CLAIM: ["auth.videosClaim", "text"],
  ENTITLEMENT_URL: ["entitlement.url", "text"],
  ENTITLEMENT_SECRET: ["entitlement.secret", "text"],
  ENTITLEMENT_CACHE_SECONDS: ["entitlement.cacheSeconds", "integer"],
  ADMIN_API_TOKEN: ["adminTokens", "list"],
  CORS_ORIGINS: ["corsOrigins", "list"],
  TOKEN_TTL_SECONDS: ["downloads.tokenTtlSeconds", "integer"],
  READY_TTL_SECONDS: ["downloads.readyTtlSeconds", "integer"],
  POLL_INTERVAL_SECONDS: ["downloads.pollIntervalSeconds", "integer"],
  DELIVERY_MODES: ["downloads.modes", "list"],
  ALLOW_PUBLIC_VIDEOS: ["downloads.allowPublicVideos", "flag"],
  LOCK_TO_CLIENT_IP: ["downloads.lockToClientIp", "flag"],
  ALLOWED_COUNTRIES: ["downloads.allowedCountries", "list"],
  BLOCKED_COUNTRIES: ["downloads.blockedCountries", "list"],
  PREPARE_DOWNLOADS: ["downloads.prepare", "list"],
  DAILY_DOWNLOAD_QUOTA: ["quota.daily", "integer"],
  SHARE_LINK_MAX_TTL: ["shareLinks.maxTtlSeconds", "integer"],
  SHARE_LINK_MAX_ACTIVE: ["shareLinks.maxActive", "integer"],
  SHARE_LINK_MAX_NETWORKS: ["shareLinks.maxNetworks", "integer"],
  SHARE_LINK_MAX_COUNTRIES: ["shareLinks.maxCountries", "integer"],
  SHARE_LINK_LEAK_WINDOW: ["shareLinks.leakWindowSeconds", "integer"],
  BRAND_NAME: ["brand.name", "text"],
  BRAND_LOGO_URL: ["brand.logoUrl", "text"],
  BRAND_ACCENT: ["brand.accent", "text"],
  RECIPIENT_LANGUAGE: ["recipientLanguage", "text"],
  EVENTS_URL: ["events.url", "text"],
  EVENTS_SECRET: ["events.secret", "text"],
  AUDIT_RETENTION_DAYS: ["audit.retentionDays", "integer"],
  AUDIT_RETRY_SECONDS: ["audit.retrySeconds", "integer"],
  MEMORY_CACHE_SECONDS: ["memoryCacheSeconds", "integer"],
} as const satisfies Record<string, readonly [SettingPath, "text" | "jwk" | "integer" | "flag" | "list"]>;

export type Setting = keyof typeof SETTINGS;
/** Options without a variable: none (test/config/config.test.ts holds it so), so the two lists cannot drift apart. */
export type UnlistedOption = Exclude<SettingPath, (typeof SETTINGS)[Setting][0]>;
type Kind = (typeof SETTINGS)[Setting][1];

/** What `optionsFromEnv` read, by option path: a problem with that value names its variable. */
const FROM_ENV = Symbol("settings read from env");
type EnvOrigins = Map<string, { variable: Setting; value: unknown }>;

/** The typed value of one variable; a variable that is not of its kind names itself. */
function fromEnvValue(variable: Setting, kind: Kind, raw: unknown): unknown {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "string") throw misconfigured(variable, "must be a string");
  const value = raw.trim();
  if (value === "") return undefined;
  switch (kind) {
    case "text":
    case "jwk":
      return value;
    case "integer":
      if (!/^\d+$/.test(value)) throw misconfigured(variable, "must be a whole number");
      return Number(value);
    case "flag":
      if (value !== "true" && value !== "false") throw misconfigured(variable, 'must be "true" or "false"');
      return value === "true";
    case "list":
      return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
  }
}

/**
 * The library's options from a Worker's environment, by today's variable names (docs/configuration.md):
 * what the standalone Worker runs on, and a one-line migration for apps that passed `settings: env`.
 * A problem with one of these values names its variable, not its option. The values are as given:
 * parseSettings checks them all, the delivery modes' names against the gateway's `Mode`s.
 */
export function settingsFromEnv<Mode extends string = string>(env: object): GatewaySettings<Mode> {
  const raw = env as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  const origins: EnvOrigins = new Map();
  for (const [variable, [path, kind]] of Object.entries(SETTINGS) as Array<[Setting, (typeof SETTINGS)[Setting]]>) {
    const value = fromEnvValue(variable, kind, raw[variable]);
    if (value === undefined) continue;
    const [group, key] = path.split(".") as [string, string | undefined];
    if (key === undefined) options[group] = value;
    else options[group] = { ...(options[group] as object | undefined), [key]: value };
    origins.set(path, { variable, value });
  }
  return Object.assign(options, { [FROM_ENV]: origins }) as unknown as GatewaySettings<Mode>;
}

/** Reads the settings of one options object, each checked against its kind and named as the app wrote it. */
class Reader {
  readonly #options: Record<string, unknown>;
  readonly #origins: EnvOrigins;
  readonly #fromEnv: boolean;

  constructor(options: object) {
    this.#options = options as Record<string, unknown>;
    const origins = (options as { [FROM_ENV]?: EnvOrigins })[FROM_ENV];
    this.#fromEnv = origins !== undefined;
    this.#origins = origins ?? new Map();
  }

  /**
   * The setting's name in a message: its variable when it came from one (or, missing, would
   * have), else its option path.
   */
  name(setting: Setting): string {
    const path = SETTINGS[setting][0];
    const origin = this.#origins.get(path);
    const value = this.#value(setting);
    if (origin === undefined) return this.#fromEnv && value === undefined ? setting : path;
    return origin.value === value ? origin.variable : path;
  }

  fail(setting: Setting, why: string): Problem {
    return misconfigured(this.name(setting), why);
  }

  #value(setting: Setting): unknown {
    const [group, key] = SETTINGS[setting][0].split(".") as [string, string | undefined];
    const outer = this.#options[group];
    if (key === undefined) return outer;
    if (outer === undefined || outer === null) return undefined;
    if (typeof outer !== "object" || Array.isArray(outer)) throw misconfigured(group, "must be an object");
    return (outer as Record<string, unknown>)[key];
  }

  text(setting: Setting): string | null {
    const value = this.#value(setting);
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") throw this.fail(setting, "must be a string");
    const trimmed = value.trim();
    return trimmed === "" ? null : trimmed;
  }

  required(setting: Setting): string {
    const value = this.text(setting);
    if (value === null) throw this.fail(setting, "is required");
    return value;
  }

  integer(setting: Setting, fallback: number, min: number, max: number): number {
    const value = this.#value(setting);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value)) throw this.fail(setting, "must be a whole number");
    if (value < min || value > max) throw this.fail(setting, `must be between ${min} and ${max}`);
    return value;
  }

  flag(setting: Setting): boolean {
    const value = this.#value(setting);
    if (value === undefined || value === null) return false;
    if (typeof value !== "boolean") throw this.fail(setting, "must be true or false");
    return value;
  }

  list(setting: Setting): string[] {
    const value = this.#value(setting);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) throw this.fail(setting, "must be a list of strings");
    return value.map((item: string) => item.trim()).filter((item) => item !== "");
  }

  /** The signing key: the base64 JWK as Stream's keys API returns it, or the JWK object itself. */
  jwk(setting: Setting): unknown {
    const value = this.#value(setting);
    if (value === undefined || value === null || value === "") throw this.fail(setting, "is required");
    if (typeof value === "object") return value;
    if (typeof value !== "string") throw this.fail(setting, "must be the base64 JWK returned by Stream's keys API");
    try {
      return JSON.parse(atob(value.trim()));
    } catch {
      throw this.fail(setting, "must be the base64 JWK returned by Stream's keys API");
    }
  }
}

const misconfigured = (setting: string, why: string) => misconfiguredProblem(setting, `${setting} ${why}`);

export const COUNTRY_CODE = /^[A-Z]{2}$/;

function countries(r: Reader, setting: Setting): ReadonlySet<string> | null {
  const codes = r.list(setting).map((c) => c.toUpperCase());
  if (codes.length === 0) return null;
  if (!codes.every(isCountryCode)) throw r.fail(setting, "must list ISO 3166-1 alpha-2 country codes");
  return new Set(codes);
}

/** https everywhere; http only for a local emulator or identity provider. */
function url(r: Reader, setting: Setting, value: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw r.fail(setting, "must be an absolute URL");
  }
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local)) {
    throw r.fail(setting, "must be an https URL (http only for localhost)");
  }
  return parsed;
}

const part = () => z.string().check(z.minLength(1));
const StreamJwk = z.object({
  kty: z.literal("RSA"),
  n: part(),
  e: part(),
  d: part(),
  p: part(),
  q: part(),
  dp: part(),
  dq: part(),
  qi: part(),
  kid: z.optional(z.string()),
});

/** The JWK exactly as Stream's `POST …/stream/keys` returns it, base64 (docs/stream-behaviour.md §3). */
function signingKey(r: Reader): { keyId: string; keyJwk: JsonWebKey } {
  const keyId = r.required("STREAM_KEY_ID");
  const jwk = StreamJwk.safeParse(r.jwk("STREAM_KEY_JWK"));
  if (!jwk.success) throw r.fail("STREAM_KEY_JWK", "must be an RSA private key JWK");
  // Stream's only documented example shows a key `id` and a JWK `kid` that differ. Tokens must
  // name the key Stream knows, its id, so the JWK's own kid is never used (emulator/README.md › Assumptions).
  if (jwk.data.kid !== undefined && jwk.data.kid !== keyId) {
    console.warn(`${r.name("STREAM_KEY_JWK")}'s kid differs from ${r.name("STREAM_KEY_ID")}; tokens carry the key id, the id Stream knows the key by`);
  }
  const { kty, n, e, d, p, q, dp, dq, qi } = jwk.data;
  return { keyId, keyJwk: { kty, n, e, d, p, q, dp, dq, qi } };
}

function auth(r: Reader, hook: boolean): AuthConfig {
  if (hook) return { kind: "hook" };
  const jwks = r.text("AUTH_JWKS_URL");
  const secret = r.text("AUTH_HS256_SECRET");
  if (jwks !== null && secret !== null) {
    throw r.fail("AUTH_JWKS_URL", `and ${r.name("AUTH_HS256_SECRET")} are both set; configure one auth source`);
  }
  const cookieName = r.text("AUTH_COOKIE_NAME");
  if (cookieName !== null && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    throw r.fail("AUTH_COOKIE_NAME", "is not a valid cookie name");
  }
  const rules: TokenRules = { issuer: r.text("AUTH_ISSUER"), audience: r.text("AUTH_AUDIENCE"), cookieName };
  if (jwks !== null) return { kind: "jwks", jwksUrl: url(r, "AUTH_JWKS_URL", jwks), ...rules };
  if (secret === null) throw r.fail("AUTH_JWKS_URL", `or ${r.name("AUTH_HS256_SECRET")} is required (or an identify hook)`);
  const secretBytes = new TextEncoder().encode(secret);
  if (secretBytes.length < 32) throw r.fail("AUTH_HS256_SECRET", "must be at least 32 bytes");
  return { kind: "hs256", secret: secretBytes, ...rules };
}

/** A Standard Webhooks secret: `whsec_` and the base64 of at least 24 random bytes. */
function webhookSecret(r: Reader, setting: Setting): Uint8Array {
  const value = r.required(setting);
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(value.replace(/^whsec_/, "")), (ch) => ch.charCodeAt(0));
  } catch {
    throw r.fail(setting, "must be whsec_ followed by base64");
  }
  if (bytes.length < 24) throw r.fail(setting, "must hold at least 24 random bytes");
  return bytes;
}

function brand(r: Reader): Brand {
  const name = r.text("BRAND_NAME");
  // Control characters have no place in a page's header; 80 characters is a long app name already.
  if (name !== null && (name.length > 80 || /[\u0000-\u001f\u007f]/.test(name))) throw r.fail("BRAND_NAME", "must be at most 80 characters, none of them control characters");
  const logo = r.text("BRAND_LOGO_URL");
  const logoUrl = logo === null ? null : url(r, "BRAND_LOGO_URL", logo);
  // Its origin goes into the share pages' CSP: only a plain host name may.
  if (logoUrl !== null && !/^[a-z0-9.-]+(:\d+)?$/i.test(logoUrl.host)) throw r.fail("BRAND_LOGO_URL", "must name a plain host");
  const accent = r.text("BRAND_ACCENT") ?? "#0b57d0";
  if (!/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(accent)) throw r.fail("BRAND_ACCENT", "must be a colour like #0b57d0");
  return { name, logoUrl, accent };
}

function recipientLanguage(r: Reader): Language | null {
  const language = r.text("RECIPIENT_LANGUAGE")?.toLowerCase() ?? null;
  if (language === null || isLanguage(language)) return language;
  throw r.fail("RECIPIENT_LANGUAGE", `must be one of ${LANGUAGES.map((l) => `"${l}"`).join(", ")}, or empty to follow each visitor's browser`);
}

/** EVENTS_URL and EVENTS_SECRET: both, or neither (no events). */
function events(r: Reader): EventsConfig | null {
  const target = r.text("EVENTS_URL");
  if (target === null) {
    if (r.text("EVENTS_SECRET") !== null) throw r.fail("EVENTS_URL", `is required with ${r.name("EVENTS_SECRET")}`);
    return null;
  }
  return { url: url(r, "EVENTS_URL", target), secret: webhookSecret(r, "EVENTS_SECRET") };
}

function entitlement(r: Reader, hook: boolean): EntitlementConfig {
  if (hook) return { kind: "hook" };
  const callback = r.text("ENTITLEMENT_URL");
  if (callback === null) return { kind: "claims-and-grants", videosClaim: r.text("AUTH_VIDEOS_CLAIM") ?? "videos" };
  return {
    kind: "callback",
    url: url(r, "ENTITLEMENT_URL", callback),
    secret: webhookSecret(r, "ENTITLEMENT_SECRET"),
    cacheSeconds: r.integer("ENTITLEMENT_CACHE_SECONDS", 30, 0, 3600),
  };
}

/** A list setting whose members come from a closed set, each once; empty: `fallback`. */
function members<T extends string>(r: Reader, setting: Setting, allowed: readonly T[], fallback: readonly T[]): T[] {
  const items = r.list(setting);
  if (items.length === 0) return [...fallback];
  if (!items.every((item): item is T => (allowed as readonly string[]).includes(item))) {
    throw r.fail(setting, `must list ${allowed.map((a) => `"${a}"`).join(" and/or ")}`);
  }
  return [...new Set(items)];
}

function origins(r: Reader): string[] {
  return r.list("CORS_ORIGINS").map((origin) => {
    const parsed = url(r, "CORS_ORIGINS", origin);
    if (parsed.origin !== origin) throw r.fail("CORS_ORIGINS", "must list bare origins like https://app.example.com");
    return origin;
  });
}

function restApi(r: Reader): Config["stream"]["api"] {
  const apiBase = url(r, "STREAM_API_BASE", r.text("STREAM_API_BASE") ?? "https://api.cloudflare.com/client/v4");
  return { kind: "rest", apiBase: apiBase.href.replace(/\/+$/, ""), apiToken: r.required("STREAM_API_TOKEN") };
}

/** Every setting of a Worker's environment (docs/configuration.md), validated. */
export function parseConfig(env: object, modes: KnownModes, provided: Provided = NOTHING_PROVIDED): Config {
  return parseSettings(settingsFromEnv(env), modes, provided);
}

/** The library's typed settings, validated; a problem names the option (or the variable it was read from). */
export function parseSettings(settings: object, known: KnownModes, provided: Provided = NOTHING_PROVIDED): Config {
  const r = new Reader(settings);
  const deliveryBase = url(r, "STREAM_DELIVERY_BASE", r.required("STREAM_DELIVERY_BASE"));
  if (deliveryBase.pathname !== "/" || deliveryBase.search !== "") {
    throw r.fail("STREAM_DELIVERY_BASE", "must be an origin like https://customer-<code>.cloudflarestream.com");
  }
  const accountId = r.required("STREAM_ACCOUNT_ID");
  if (!/^[0-9a-f]{32}$/.test(accountId)) throw r.fail("STREAM_ACCOUNT_ID", "must be 32 hex characters");
  const quota = r.integer("DAILY_DOWNLOAD_QUOTA", 0, 0, 1_000_000);
  const names = Object.keys(known);
  const modes = new Set(members(r, "DELIVERY_MODES", names, names));
  const lockToClientIp = r.flag("LOCK_TO_CLIENT_IP");
  // IP-locked grants are delivered through the gateway (docs/design.md › IP lock).
  if (lockToClientIp && ![...modes].some((mode) => known[mode]?.throughGateway)) {
    const through = names.filter((mode) => known[mode]?.throughGateway).map((mode) => `"${mode}"`);
    throw r.fail("LOCK_TO_CLIENT_IP", `needs a mode delivered through the gateway (${through.join(" or ")}) in ${r.name("DELIVERY_MODES")}`);
  }
  return {
    stream: {
      accountId,
      api: provided.streamBinding ? { kind: "binding" } : restApi(r),
      deliveryBase: deliveryBase.origin,
      ...signingKey(r),
      timeoutMs: r.integer("STREAM_TIMEOUT_MS", 5000, 100, 60_000),
    },
    auth: auth(r, provided.identify),
    entitlement: entitlement(r, provided.entitle),
    adminTokens: r.list("ADMIN_API_TOKEN"),
    corsOrigins: origins(r),
    tokenTtlSeconds: r.integer("TOKEN_TTL_SECONDS", 3600, 60, MAX_TOKEN_TTL_SECONDS),
    readyTtlSeconds: r.integer("READY_TTL_SECONDS", 3600, 1, 7 * 86_400),
    memoryCacheSeconds: r.integer("MEMORY_CACHE_SECONDS", 30, 0, 3600),
    pollIntervalSeconds: r.integer("POLL_INTERVAL_SECONDS", 5, 1, 300),
    allowPublicVideos: r.flag("ALLOW_PUBLIC_VIDEOS"),
    lockToClientIp,
    allowedCountries: countries(r, "ALLOWED_COUNTRIES"),
    blockedCountries: countries(r, "BLOCKED_COUNTRIES"),
    deliveryModes: modes,
    dailyDownloadQuota: quota === 0 ? null : quota,
    shareLinkMaxTtlSeconds: r.integer("SHARE_LINK_MAX_TTL", 7 * 86_400, 60, 365 * 86_400),
    shareLinkMaxActive: r.integer("SHARE_LINK_MAX_ACTIVE", 100, 1, 1_000_000),
    shareLinkLeak: {
      maxNetworks: r.integer("SHARE_LINK_MAX_NETWORKS", 0, 0, 10_000) || null,
      maxCountries: r.integer("SHARE_LINK_MAX_COUNTRIES", 0, 0, 250) || null,
      windowSeconds: r.integer("SHARE_LINK_LEAK_WINDOW", 86_400, 60, 30 * 86_400),
    },
    streamApiBudget: streamApiBudget(r),
    webhookSecret: r.text("STREAM_WEBHOOK_SECRET"),
    prepareDownloads: members(r, "PREPARE_DOWNLOADS", DOWNLOAD_TYPES, []),
    auditRetentionDays: r.integer("AUDIT_RETENTION_DAYS", 90, 1, 3650),
    auditRetrySeconds: r.integer("AUDIT_RETRY_SECONDS", 10, 0, 3600),
    events: events(r),
    brand: brand(r),
    recipientLanguage: recipientLanguage(r),
  };
}

/**
 * Stream allows 1,200 calls per 5 minutes per user, shared with the app's own calls and the
 * dashboard, and locks them out for 5 minutes past it; 900 leaves the app headroom. A user's first
 * download of a video costs one or two calls (none once the gateway knows the video), so 10 is
 * five new videos per user per 5 minutes; a network gets more, as many users may share one address.
 */
function streamApiBudget(r: Reader): Config["streamApiBudget"] {
  const limit = r.integer("STREAM_API_BUDGET", 900, 1, 1_000_000);
  return {
    limit,
    userShare: Math.min(limit, r.integer("STREAM_API_USER_SHARE", 10, 1, 1_000_000)),
    networkShare: Math.min(limit, r.integer("STREAM_API_NETWORK_SHARE", 200, 1, 1_000_000)),
  };
}
