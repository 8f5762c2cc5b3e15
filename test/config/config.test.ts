// Every setting's misconfiguration (src/config/config.ts): a wrong value read from its environment
// variable names the variable, the same wrong value given as a typed option names the option, and
// static options throw when the gateway is built.
import { env } from "cloudflare:test";
import { describe, expect, expectTypeOf, test } from "vitest";
import { parseConfig, parseSettings, SETTINGS, type Setting, type UnlistedOption } from "../../src/config/config";
import { DELIVERIES } from "../../src/deliver/modes";
import { optionsFromEnv, streamDownloads, type StreamDownloadsOptions } from "../../src/library";
import { Problem } from "../../src/problems";
import { callHost, expectProblem } from "../helpers";

const WHSEC = `whsec_${btoa("0123456789abcdefghijklmnopqrstuv")}`;
const SHORT_WHSEC = "whsec_c2hvcnQ=";

/** Settings that another must accompany to be read at all, as variables and as options. */
type Context = { vars: Record<string, string>; options: Record<string, Record<string, unknown>> };
const NONE: Context = { vars: {}, options: {} };
const ENTITLEMENT: Context = { vars: { ENTITLEMENT_URL: "https://app.example/entitled" }, options: { entitlement: { url: "https://app.example/entitled" } } };
const ENTITLEMENT_WITH_SECRET: Context = {
  vars: { ...ENTITLEMENT.vars, ENTITLEMENT_SECRET: WHSEC },
  options: { entitlement: { url: "https://app.example/entitled", secret: WHSEC } },
};
const JWKS_ONLY: Context = { vars: { AUTH_HS256_SECRET: "" }, options: { auth: { hs256Secret: undefined } } };
const EVENTS: Context = { vars: { EVENTS_URL: "https://app.example/events" }, options: { events: { url: "https://app.example/events" } } };

/** Per setting: a wrong variable (null: every string is a valid one), a wrong option, what the message says, and the context it needs. */
const WRONG: Record<Setting, [string | null, unknown, RegExp, Context?]> = {
  STREAM_ACCOUNT_ID: ["xyz", "xyz", /32 hex characters/],
  STREAM_API_TOKEN: ["", "", /is required/],
  STREAM_API_BASE: ["ftp://api.example", "ftp://api.example", /https URL/],
  STREAM_KEY_ID: ["", "", /is required/],
  STREAM_KEY_JWK: [btoa("not json"), { kty: "EC" }, /JWK/],
  STREAM_DELIVERY_BASE: ["https://customer-x.example/path", "https://customer-x.example/path", /must be an origin/],
  STREAM_TIMEOUT_MS: ["50", 50, /between 100 and 60000/],
  STREAM_API_BUDGET: ["0", 0, /between 1 and/],
  STREAM_API_USER_SHARE: ["0", 0, /between 1 and/],
  STREAM_API_NETWORK_SHARE: ["0", 0, /between 1 and/],
  STREAM_WEBHOOK_SECRET: [null, 42, /must be a string/],
  AUTH_JWKS_URL: ["not a url", "not a url", /absolute URL/, JWKS_ONLY],
  AUTH_HS256_SECRET: ["short", "short", /at least 32 bytes/],
  AUTH_ISSUER: [null, 42, /must be a string/],
  AUTH_AUDIENCE: [null, ["a"], /must be a string/],
  AUTH_COOKIE_NAME: ["bad name", "bad name", /valid cookie name/],
  AUTH_VIDEOS_CLAIM: [null, 42, /must be a string/],
  ENTITLEMENT_URL: ["http://app.example/entitled", "http://app.example/entitled", /https URL/],
  ENTITLEMENT_SECRET: [SHORT_WHSEC, SHORT_WHSEC, /24 random bytes/, ENTITLEMENT],
  ENTITLEMENT_CACHE_SECONDS: ["4000", 4000, /between 0 and 3600/, ENTITLEMENT_WITH_SECRET],
  ADMIN_API_TOKEN: [null, "one-token", /list of strings/],
  CORS_ORIGINS: ["https://app.example/path", ["https://app.example/path"], /bare origins/],
  TOKEN_TTL_SECONDS: ["10", 10, /between 60 and 86100/],
  READY_TTL_SECONDS: ["0", 0, /between 1 and/],
  POLL_INTERVAL_SECONDS: ["0", 0, /between 1 and 300/],
  DELIVERY_MODES: ["fast", ["fast"], /must list "redirect" and\/or "stream"/],
  ALLOW_PUBLIC_VIDEOS: ["yes", "yes", /"?true"? or "?false"?/],
  LOCK_TO_CLIENT_IP: ["maybe", 1, /"?true"? or "?false"?/],
  ALLOWED_COUNTRIES: ["XX", ["XX"], /ISO 3166-1/],
  BLOCKED_COUNTRIES: ["GB,XX", ["GB", "XX"], /ISO 3166-1/],
  PREPARE_DOWNLOADS: ["video", ["video"], /must list "default" and\/or "audio"/],
  DAILY_DOWNLOAD_QUOTA: ["-1", -1, /whole number|between 0/],
  SHARE_LINK_MAX_TTL: ["10", 10, /between 60 and/],
  SHARE_LINK_MAX_ACTIVE: ["0", 0, /between 1 and/],
  SHARE_LINK_MAX_NETWORKS: ["10001", 10_001, /between 0 and 10000/],
  SHARE_LINK_MAX_COUNTRIES: ["251", 251, /between 0 and 250/],
  SHARE_LINK_LEAK_WINDOW: ["10", 10, /between 60 and/],
  BRAND_NAME: ["x".repeat(81), "x".repeat(81), /at most 80 characters/],
  BRAND_LOGO_URL: ["http://logo.example/logo.png", "http://logo.example/logo.png", /https URL/],
  BRAND_ACCENT: ["red", "red", /colour like/],
  RECIPIENT_LANGUAGE: ["pt", "pt", /must be one of "en", "de", "fr", "es", "ja"/],
  EVENTS_URL: ["ftp://app.example/events", "ftp://app.example/events", /https URL/],
  EVENTS_SECRET: [SHORT_WHSEC, SHORT_WHSEC, /24 random bytes/, EVENTS],
  AUDIT_RETENTION_DAYS: ["0", 0, /between 1 and 3650/],
  AUDIT_RETRY_SECONDS: ["3601", 3601, /between 0 and 3600/],
  MEMORY_CACHE_SECONDS: ["3601", 3601, /between 0 and 3600/],
};

/** Valid typed settings written by hand, not read from variables. */
function typedBase(): Record<string, Record<string, unknown>> {
  return {
    stream: {
      accountId: env.STREAM_ACCOUNT_ID,
      keyId: env.STREAM_KEY_ID,
      keyJwk: env.STREAM_KEY_JWK,
      deliveryBase: env.STREAM_DELIVERY_BASE,
      apiToken: env.STREAM_API_TOKEN,
    },
    auth: { hs256Secret: env.AUTH_HS256_SECRET },
  };
}

function withOption(path: string, value: unknown, context: Context): object {
  const options = typedBase();
  for (const [group, values] of Object.entries(context.options)) options[group] = { ...options[group], ...values };
  const [group, key] = path.split(".") as [string, string | undefined];
  if (key === undefined) return { ...options, [group]: value };
  return { ...options, [group]: { ...options[group], [key]: value } };
}

function problemOf(run: () => unknown): Problem {
  try {
    run();
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error("no problem was raised");
}

describe("every setting", () => {
  test("has its variable, and every option its setting (the two lists cannot drift apart)", () => {
    expectTypeOf<UnlistedOption>().toBeNever();
    expect(Object.keys(WRONG).sort()).toEqual(Object.keys(SETTINGS).sort());
    expect(new Set(Object.values(SETTINGS).map(([path]) => path)).size).toBe(Object.keys(SETTINGS).length);
  });

  test.each(Object.entries(WRONG).filter(([, [variable]]) => variable !== null))("%s: a wrong variable is named by its variable", (setting, [value, , message, context = NONE]) => {
    const problem = problemOf(() => parseConfig({ ...env, ...context.vars, [setting]: value }, DELIVERIES));
    expect(problem.type).toBe("misconfigured");
    expect(problem.options.extensions?.["setting"]).toBe(setting);
    expect(problem.detail).toMatch(message);
    expect(problem.detail.startsWith(setting)).toBe(true);
  });

  test.each(Object.entries(WRONG))("%s: a wrong typed option is named by its option path", (setting, [, value, message, context = NONE]) => {
    const path = SETTINGS[setting as Setting][0];
    const problem = problemOf(() => parseSettings(withOption(path, value, context), DELIVERIES));
    expect(problem.options.extensions?.["setting"]).toBe(path);
    expect(problem.detail).toMatch(message);
  });

  test("the required settings alone, typed or as variables, give the same configuration: the defaults agree", () => {
    const typed = parseSettings(typedBase(), DELIVERIES);
    const { STREAM_ACCOUNT_ID, STREAM_KEY_ID, STREAM_KEY_JWK, STREAM_DELIVERY_BASE, STREAM_API_TOKEN, AUTH_HS256_SECRET } = env;
    const fromEnv = parseConfig({ STREAM_ACCOUNT_ID, STREAM_KEY_ID, STREAM_KEY_JWK, STREAM_DELIVERY_BASE, STREAM_API_TOKEN, AUTH_HS256_SECRET }, DELIVERIES);
    expect(typed).toEqual(fromEnv);
    expect(typed.tokenTtlSeconds).toBe(3600);
  });
});

describe("static options and optionsFromEnv", () => {
  test("a wrong static option throws when the gateway is built, naming the option", () => {
    const wrong = () => streamDownloads({ ...(typedBase() as unknown as StreamDownloadsOptions), shareLinks: { maxActive: 0 } });
    expect(wrong).toThrow(Problem);
    const problem = problemOf(wrong);
    expect(problem.options.extensions?.["setting"]).toBe("shareLinks.maxActive");
  });

  test.each([
    [{ downloads: { lockToClientIP: true } }, "downloads.lockToClientIP"],
    [{ quota: { dialy: 5 } }, "quota.dialy"],
    [{ shareLink: {} }, "shareLink"],
  ])("an option that is not one (%o, a typo) throws naming it, instead of leaving its setting at the default", (typo, name) => {
    const base = typedBase() as Record<string, unknown>;
    const [group, value] = Object.entries(typo)[0] as [string, object];
    const options = { ...base, [group]: { ...(base[group] as object | undefined), ...value } };
    expect(problemOf(() => streamDownloads(options as unknown as StreamDownloadsOptions)).options.extensions?.["setting"]).toBe(name);
  });

  test("valid static options without bindings take them from the Worker's env", async () => {
    const app = streamDownloads(typedBase() as unknown as StreamDownloadsOptions);
    const res = await callHost(app, `https://gw.example/v1/videos/${"ab".repeat(16)}/download`);
    await expectProblem(res, 401, "unauthenticated");
  });

  test("options from env answer 500 misconfigured per request, naming the variable; an override names its option", async () => {
    const fromEnv = streamDownloads((e: Env) => optionsFromEnv({ ...e, SHARE_LINK_MAX_ACTIVE: "0" }));
    const problem = await expectProblem(await callHost(fromEnv, `https://gw.example/v1/share-links`), 500, "misconfigured");
    expect(problem.setting).toBe("SHARE_LINK_MAX_ACTIVE");

    const overridden = streamDownloads((e: Env) => ({ ...optionsFromEnv(e), shareLinks: { ...optionsFromEnv(e).shareLinks, maxActive: -1 } }));
    const named = await expectProblem(await callHost(overridden, `https://gw.example/v1/share-links`), 500, "misconfigured");
    expect(named.setting).toBe("shareLinks.maxActive");
  });

  test("options still carrying `settings` are refused with the migration", () => {
    const problem = problemOf(() => streamDownloads({ settings: env } as never));
    expect(problem.options.extensions?.["setting"]).toBe("settings");
    expect(problem.detail).toMatch(/optionsFromEnv/);
  });
});
