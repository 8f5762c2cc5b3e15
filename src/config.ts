// Every setting of the gateway, parsed and validated once per isolate into one typed Config.
// A bad or missing setting becomes a `misconfigured` problem that names the setting, never its
// value (values include secrets).
import * as z from "./http/zod";
import { isCountryCode } from "./countries";
import { misconfigured as misconfiguredProblem } from "./problems";

export type DeliveryMode = "redirect" | "stream";

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
  deliveryModes: ReadonlySet<DeliveryMode>;
  dailyDownloadQuota: number | null;
  shareLinkMaxTtlSeconds: number;
  /** Live links one user may hold at once (SHARE_LINK_MAX_ACTIVE). */
  shareLinkMaxActive: number;
  /** A new link's leak limits unless it sets its own (SHARE_LINK_MAX_NETWORKS, SHARE_LINK_MAX_COUNTRIES); null: none. */
  shareLinkLeak: { maxNetworks: number | null; maxCountries: number | null; windowSeconds: number };
  /** Stream API calls the gateway may make per 5 minutes, account-wide (STREAM_API_BUDGET). */
  streamApiBudget: number;
  webhookSecret: string | null;
  prepareDownloads: ReadonlyArray<"default" | "audio">;
  auditRetentionDays: number;
  /** The first retry of an audit batch D1 refused waits this long, each next one twice as long (AUDIT_RETRY_SECONDS). */
  auditRetrySeconds: number;
  /** How the share pages present the app (BRAND_NAME, BRAND_LOGO_URL, BRAND_ACCENT). */
  brand: Brand;
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

/** Stream refuses tokens more than 24 h ahead; 5 minutes of margin for clock skew. */
export const MAX_TOKEN_TTL_SECONDS = 86_100;

const misconfigured = (setting: string, why: string) => misconfiguredProblem(setting, `${setting} ${why}`);

type Raw = Record<string, unknown>;

function text(raw: Raw, name: string): string | null {
  const value = raw[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw misconfigured(name, "must be a string");
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function required(raw: Raw, name: string): string {
  const value = text(raw, name);
  if (value === null) throw misconfigured(name, "is required");
  return value;
}

function integer(raw: Raw, name: string, fallback: number, min: number, max: number): number {
  const value = text(raw, name);
  if (value === null) return fallback;
  if (!/^\d+$/.test(value)) throw misconfigured(name, "must be a whole number");
  const n = Number(value);
  if (n < min || n > max) throw misconfigured(name, `must be between ${min} and ${max}`);
  return n;
}

function flag(raw: Raw, name: string): boolean {
  const value = text(raw, name);
  if (value === null || value === "false") return false;
  if (value === "true") return true;
  throw misconfigured(name, 'must be "true" or "false"');
}

function list(raw: Raw, name: string): string[] {
  return (text(raw, name) ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export const COUNTRY_CODE = /^[A-Z]{2}$/;

function countries(raw: Raw, name: string): ReadonlySet<string> | null {
  const codes = list(raw, name).map((c) => c.toUpperCase());
  if (codes.length === 0) return null;
  const bad = codes.find((c) => !isCountryCode(c));
  if (bad !== undefined) throw misconfigured(name, "must list ISO 3166-1 alpha-2 country codes");
  return new Set(codes);
}

/** https everywhere; http only for a local emulator or identity provider. */
function url(name: string, value: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw misconfigured(name, "must be an absolute URL");
  }
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local)) {
    throw misconfigured(name, "must be an https URL (http only for localhost)");
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

/** The base64 JWK exactly as Stream's `POST …/stream/keys` returns it (docs/stream-behaviour.md §3). */
function signingKey(raw: Raw): { keyId: string; keyJwk: JsonWebKey } {
  const keyId = required(raw, "STREAM_KEY_ID");
  const encoded = required(raw, "STREAM_KEY_JWK");
  let decoded: unknown;
  try {
    decoded = JSON.parse(atob(encoded));
  } catch {
    throw misconfigured("STREAM_KEY_JWK", "must be the base64 JWK returned by Stream's keys API");
  }
  const jwk = StreamJwk.safeParse(decoded);
  if (!jwk.success) throw misconfigured("STREAM_KEY_JWK", "must be an RSA private key JWK");
  // Stream's only documented example shows a key `id` and a JWK `kid` that differ. Tokens must
  // name the key Stream knows, its id, so the JWK's own kid is never used (emulator/README.md › Assumptions).
  if (jwk.data.kid !== undefined && jwk.data.kid !== keyId) {
    console.warn("STREAM_KEY_JWK's kid differs from STREAM_KEY_ID; tokens carry STREAM_KEY_ID, the id Stream knows the key by");
  }
  const { kty, n, e, d, p, q, dp, dq, qi } = jwk.data;
  return { keyId, keyJwk: { kty, n, e, d, p, q, dp, dq, qi } };
}

function auth(raw: Raw, hook: boolean): AuthConfig {
  if (hook) return { kind: "hook" };
  const jwks = text(raw, "AUTH_JWKS_URL");
  const secret = text(raw, "AUTH_HS256_SECRET");
  if (jwks !== null && secret !== null) {
    throw misconfigured("AUTH_JWKS_URL", "and AUTH_HS256_SECRET are both set; configure one auth source");
  }
  const cookieName = text(raw, "AUTH_COOKIE_NAME");
  if (cookieName !== null && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    throw misconfigured("AUTH_COOKIE_NAME", "is not a valid cookie name");
  }
  const rules: TokenRules = { issuer: text(raw, "AUTH_ISSUER"), audience: text(raw, "AUTH_AUDIENCE"), cookieName };
  if (jwks !== null) return { kind: "jwks", jwksUrl: url("AUTH_JWKS_URL", jwks), ...rules };
  if (secret === null) throw misconfigured("AUTH_JWKS_URL", "or AUTH_HS256_SECRET is required");
  const secretBytes = new TextEncoder().encode(secret);
  if (secretBytes.length < 32) throw misconfigured("AUTH_HS256_SECRET", "must be at least 32 bytes");
  return { kind: "hs256", secret: secretBytes, ...rules };
}

/** A Standard Webhooks secret: `whsec_` and the base64 of at least 24 random bytes. */
function webhookSecret(raw: Raw, name: string): Uint8Array {
  const value = required(raw, name);
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(value.replace(/^whsec_/, "")), (ch) => ch.charCodeAt(0));
  } catch {
    throw misconfigured(name, "must be whsec_ followed by base64");
  }
  if (bytes.length < 24) throw misconfigured(name, "must hold at least 24 random bytes");
  return bytes;
}

function brand(raw: Raw): Brand {
  const name = text(raw, "BRAND_NAME");
  // Control characters have no place in a page's header; 80 characters is a long app name already.
  if (name !== null && (name.length > 80 || /[\u0000-\u001f\u007f]/.test(name))) throw misconfigured("BRAND_NAME", "must be at most 80 characters, none of them control characters");
  const logo = text(raw, "BRAND_LOGO_URL");
  const logoUrl = logo === null ? null : url("BRAND_LOGO_URL", logo);
  // Its origin goes into the share pages' CSP: only a plain host name may.
  if (logoUrl !== null && !/^[a-z0-9.-]+(:\d+)?$/i.test(logoUrl.host)) throw misconfigured("BRAND_LOGO_URL", "must name a plain host");
  const accent = text(raw, "BRAND_ACCENT") ?? "#0b57d0";
  if (!/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(accent)) throw misconfigured("BRAND_ACCENT", "must be a colour like #0b57d0");
  return { name, logoUrl, accent };
}

/** EVENTS_URL and EVENTS_SECRET: both, or neither (no events). */
function events(raw: Raw): EventsConfig | null {
  const target = text(raw, "EVENTS_URL");
  if (target === null) {
    if (text(raw, "EVENTS_SECRET") !== null) throw misconfigured("EVENTS_URL", "is required with EVENTS_SECRET");
    return null;
  }
  return { url: url("EVENTS_URL", target), secret: webhookSecret(raw, "EVENTS_SECRET") };
}

function entitlement(raw: Raw, hook: boolean): EntitlementConfig {
  if (hook) return { kind: "hook" };
  const callback = text(raw, "ENTITLEMENT_URL");
  if (callback === null) return { kind: "claims-and-grants", videosClaim: text(raw, "AUTH_VIDEOS_CLAIM") ?? "videos" };
  return {
    kind: "callback",
    url: url("ENTITLEMENT_URL", callback),
    secret: webhookSecret(raw, "ENTITLEMENT_SECRET"),
    cacheSeconds: integer(raw, "ENTITLEMENT_CACHE_SECONDS", 30, 0, 3600),
  };
}

function deliveryModes(raw: Raw): ReadonlySet<DeliveryMode> {
  const modes = list(raw, "DELIVERY_MODES");
  if (modes.length === 0) return new Set(["redirect", "stream"]);
  if (!modes.every((m) => m === "redirect" || m === "stream")) {
    throw misconfigured("DELIVERY_MODES", 'must list "redirect" and/or "stream"');
  }
  return new Set(modes as DeliveryMode[]);
}

function prepareDownloads(raw: Raw): Array<"default" | "audio"> {
  const types = list(raw, "PREPARE_DOWNLOADS");
  if (!types.every((t) => t === "default" || t === "audio")) {
    throw misconfigured("PREPARE_DOWNLOADS", 'must list "default" and/or "audio"');
  }
  return [...new Set(types as Array<"default" | "audio">)];
}

function origins(raw: Raw): string[] {
  return list(raw, "CORS_ORIGINS").map((origin) => {
    const parsed = url("CORS_ORIGINS", origin);
    if (parsed.origin !== origin) throw misconfigured("CORS_ORIGINS", "must list bare origins like https://app.example.com");
    return origin;
  });
}

function restApi(raw: Raw): Config["stream"]["api"] {
  const apiBase = url("STREAM_API_BASE", text(raw, "STREAM_API_BASE") ?? "https://api.cloudflare.com/client/v4");
  return { kind: "rest", apiBase: apiBase.href.replace(/\/+$/, ""), apiToken: required(raw, "STREAM_API_TOKEN") };
}

/** Every setting of `env` (a Worker's Env, or any record of the same names), validated. */
export function parseConfig(settings: object, provided: Provided = NOTHING_PROVIDED): Config {
  const env = settings as Raw;
  const deliveryBase = url("STREAM_DELIVERY_BASE", required(env, "STREAM_DELIVERY_BASE"));
  if (deliveryBase.pathname !== "/" || deliveryBase.search !== "") {
    throw misconfigured("STREAM_DELIVERY_BASE", "must be an origin like https://customer-<code>.cloudflarestream.com");
  }
  const accountId = required(env, "STREAM_ACCOUNT_ID");
  if (!/^[0-9a-f]{32}$/.test(accountId)) throw misconfigured("STREAM_ACCOUNT_ID", "must be 32 hex characters");
  const quota = integer(env, "DAILY_DOWNLOAD_QUOTA", 0, 0, 1_000_000);
  const modes = deliveryModes(env);
  const lockToClientIp = flag(env, "LOCK_TO_CLIENT_IP");
  // IP-locked grants are delivered through the gateway (docs/design.md › IP lock), which stream mode is.
  if (lockToClientIp && !modes.has("stream")) throw misconfigured("LOCK_TO_CLIENT_IP", 'needs "stream" in DELIVERY_MODES');
  return {
    stream: {
      accountId,
      api: provided.streamBinding ? { kind: "binding" } : restApi(env),
      deliveryBase: deliveryBase.origin,
      ...signingKey(env),
      timeoutMs: integer(env, "STREAM_TIMEOUT_MS", 5000, 100, 60_000),
    },
    auth: auth(env, provided.identify),
    entitlement: entitlement(env, provided.entitle),
    adminTokens: list(env, "ADMIN_API_TOKEN"),
    corsOrigins: origins(env),
    tokenTtlSeconds: integer(env, "TOKEN_TTL_SECONDS", 3600, 60, MAX_TOKEN_TTL_SECONDS),
    readyTtlSeconds: integer(env, "READY_TTL_SECONDS", 3600, 1, 7 * 86_400),
    memoryCacheSeconds: integer(env, "MEMORY_CACHE_SECONDS", 30, 0, 3600),
    pollIntervalSeconds: integer(env, "POLL_INTERVAL_SECONDS", 5, 1, 300),
    allowPublicVideos: flag(env, "ALLOW_PUBLIC_VIDEOS"),
    lockToClientIp,
    allowedCountries: countries(env, "ALLOWED_COUNTRIES"),
    blockedCountries: countries(env, "BLOCKED_COUNTRIES"),
    deliveryModes: modes,
    dailyDownloadQuota: quota === 0 ? null : quota,
    shareLinkMaxTtlSeconds: integer(env, "SHARE_LINK_MAX_TTL", 7 * 86_400, 60, 365 * 86_400),
    shareLinkMaxActive: integer(env, "SHARE_LINK_MAX_ACTIVE", 100, 1, 1_000_000),
    shareLinkLeak: {
      maxNetworks: integer(env, "SHARE_LINK_MAX_NETWORKS", 0, 0, 10_000) || null,
      maxCountries: integer(env, "SHARE_LINK_MAX_COUNTRIES", 0, 0, 250) || null,
      windowSeconds: integer(env, "SHARE_LINK_LEAK_WINDOW", 86_400, 60, 30 * 86_400),
    },
    // Stream allows 1,200 calls per 5 minutes per token, shared with the app's own calls and the
    // dashboard, and locks the token out for 5 minutes past it; 900 leaves the app headroom.
    streamApiBudget: integer(env, "STREAM_API_BUDGET", 900, 1, 1_000_000),
    webhookSecret: text(env, "STREAM_WEBHOOK_SECRET"),
    prepareDownloads: prepareDownloads(env),
    auditRetentionDays: integer(env, "AUDIT_RETENTION_DAYS", 90, 1, 3650),
    auditRetrySeconds: integer(env, "AUDIT_RETRY_SECONDS", 10, 0, 3600),
    events: events(env),
    brand: brand(env),
  };
}
