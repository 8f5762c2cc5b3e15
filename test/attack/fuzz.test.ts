// Garbage on every route (docs/http-api.md, docs/security.md: "oversized/garbage input on every route"),
// property-based with fast-check: generated paths, queries, headers and bodies (wrong types,
// oversized values, unicode, CR/LF, NUL bytes, injection payloads, raw bytes) next to valid values,
// so that some requests get deep into each handler. Whatever arrives, the answer is a 4xx
// problem (JSON, or the HTML page a browser asked for) or a legitimate answer for that route;
// never a 5xx; and no response header carries injected content.
import fc from "fast-check";
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { PROBLEM_STATUS } from "../../src/problems";
import { DELIVERY_BASE, seedVideo } from "../emulator/helpers";
import { ADMIN_TOKEN, GATEWAY, appToken, createShareLink, gateway, randomUser, randomUid } from "../helpers";

const RUNS = 100;
const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/** Every generated payload that could travel into a header carries this marker. */
const MARK = "zqxinj";


// ── generators ──────────────────────────────────────────────────────────────────────────────────

const SPECIALS = [
  "\r\n", "\n", "\r", "\0", "%00", "%0d%0a", "../", "..\\", "/", "\\", "%2F", "%2e%2e", "%", "%zz", '"', "'", "<", ">", ";",
  ",", "=", "&", "?", "#", " ", "\t", "\u202e", "\ufeff", "\u200b", "\u{1f680}", "é", "\u0130", "\uffff", "\u0000", MARK,
];
const PAYLOADS = [
  `\r\nX-${MARK}: 1`,
  `${MARK}\r\nSet-Cookie: ${MARK}=1`,
  `<script>${MARK}()</script>`,
  `<img src=x onerror=${MARK}>`,
  `"><svg onload=${MARK}>`,
  "../../../etc/passwd",
  "..%2F..%2Fkeys",
  `%00${MARK}`,
  "' OR '1'='1",
  "1; DROP TABLE share_links; --",
  `\${${MARK}}`,
  `{{${MARK}}}`,
  "__proto__",
  "constructor",
  `https://evil.example/${MARK}`,
  "//evil.example",
  `javascript:${MARK}`,
  "NaN", "Infinity", "-1", "0", "1e309", "9007199254740993", "-0", "true", "null", "[]", "{}", "",
];

const garbage: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 3 },
  { arbitrary: fc.array(fc.constantFrom(...SPECIALS), { maxLength: 8 }).map((parts) => parts.join("")), weight: 3 },
  { arbitrary: fc.constantFrom(...PAYLOADS), weight: 4 },
  { arbitrary: fc.constantFrom(300, 5_000, 70_000).map((n) => MARK.repeat(Math.ceil(n / MARK.length))), weight: 1 },
);

/** Any JSON-ish value of the wrong type, or garbage text. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  garbage,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(garbage, { maxLength: 3 }),
  fc.dictionary(garbage, garbage, { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A value that is sometimes right: one of `valid`, else anything. */
const sometimes = <T>(...valid: T[]): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 2 }, { arbitrary: anyValue, weight: 1 });

/** A value that is usually right: one of `valid`, now and then anything. */
const mostly = <T>(...valid: T[]): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 6 }, { arbitrary: anyValue, weight: 1 });

/** A query string of known keys with usually valid values (and garbage now and then). */
function validQuery(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  return fc.record(fields, { requiredKeys: [] }).map((values) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) params.set(k, (typeof v === "string" ? v : JSON.stringify(v) ?? "").toWellFormed());
    const text = params.toString();
    return text === "" ? "" : `?${text}`;
  });
}

const urlSafe = (text: string) => encodeURIComponent(text.toWellFormed());

/** A path segment: a valid value, garbage (encoded), raw oddities, or a valid value with a tail. */
function segment(...valid: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...valid), weight: 2 },
    { arbitrary: garbage.map((g) => urlSafe(g).slice(0, 3000)), weight: 4 },
    {
      arbitrary: fc.constantFrom("%00", "%2F", "%2F..%2F", "%252e%252e", "%zz", "%", "%C0%AE", "%E2%80%AE", "%20", "~", "'", "%22", "%0A", "-", "_"),
      weight: 2,
    },
    { arbitrary: fc.tuple(fc.constantFrom(...valid), fc.constantFrom("%00", "%2F", "0", "%20", "%0d%0a", ".mp4", "%3F", "%23", "A")).map(([v, tail]) => `${v}${tail}`), weight: 2 },
  );
}

/** A query string: known keys with valid or garbage values, unknown keys, repeated keys, broken encodings. */
function query(keys: string[], values: string[] = []): fc.Arbitrary<string> {
  const pairs = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...keys), garbage), fc.oneof(fc.constantFrom(...values, ...keys), garbage)), { maxLength: 5 })
    .map((list) => {
      const params = new URLSearchParams();
      for (const [k, v] of list) params.append(k.toWellFormed(), v.toWellFormed());
      const text = params.toString();
      return text === "" ? "" : `?${text}`;
    });
  return fc.oneof({ arbitrary: pairs, weight: 5 }, { arbitrary: fc.constantFrom("?%", "?%zz=1", "?type=%00", "?filename=%C0%AF", "?=", "?&&", "?mode", "?a=%E2%80%AE"), weight: 1 });
}

/**
 * Header values as a client can send them (printable ASCII and tab; no CR/LF/NUL, which the Fetch
 * API refuses to send): generated garbage with the rest dropped.
 */
const headerValue = garbage.map((g) => g.toWellFormed().replace(/[^\t\x20-\x7e]/g, "").slice(0, 8000));

const HEADER_NAMES = [
  "range", "if-range", "cookie", "origin", "referer", "user-agent", "cf-ipcountry", "cf-connecting-ip", "x-forwarded-for",
  "x-forwarded-host", "accept-language", "webhook-signature", "if-none-match", `x-${MARK}`, "content-language",
];

const headers = fc.dictionary(fc.constantFrom(...HEADER_NAMES), fc.oneof(headerValue, fc.constantFrom("bytes=0-", "bytes=100-", "bytes=0-0,5-9", "GB", "US", "XX", "T1", "203.0.113.9", "::1")), { maxKeys: 4 });
const accept = fc.constantFrom(undefined, "application/json", BROWSER, "*/*", "text/html", `${MARK}/${MARK}`);
const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-16",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data; boundary=zz",
  "application/vnd.api+json",
  `${MARK}/${MARK}`,
);

type Body = string | Uint8Array | undefined;

/** A body: a plausible object with garbage fields, any JSON, text, raw bytes (with NULs), or oversized. */
function body(plausible: fc.Arbitrary<unknown>): fc.Arbitrary<Body> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: plausible.map((v) => JSON.stringify(v)), weight: 5 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: garbage, weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
    { arbitrary: fc.constantFrom(4_200, 9_000, 300_000, 1_100_000).map((n) => JSON.stringify({ pad: MARK.repeat(n / 6) })), weight: 1 },
  );
}

type Auth = "valid" | "none" | "garbage" | "cookie";
const auth = fc.oneof(
  { arbitrary: fc.constant<Auth>("valid"), weight: 6 },
  { arbitrary: fc.constantFrom<Auth>("none", "garbage", "cookie"), weight: 1 },
);

// ── requests and the checks every response must pass ────────────────────────────────────────────

interface Attempt {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Body;
  contentType: string | undefined;
  accept: string | undefined;
  auth: Auth;
  authValue: string;
}

type Who = "user" | "admin" | "public";

async function send(who: Who, a: Attempt): Promise<Response> {
  const h = new Headers();
  for (const [name, value] of Object.entries(a.headers)) h.set(name, value);
  if (a.accept !== undefined) h.set("accept", a.accept);
  if (a.contentType !== undefined && a.body !== undefined) h.set("content-type", a.contentType);
  if (who !== "public") {
    const credential = who === "admin" ? ADMIN_TOKEN : await appToken(randomUser(), { videos: "*" });
    if (a.auth === "valid") h.set("authorization", `Bearer ${credential}`);
    if (a.auth === "garbage") h.set("authorization", `Bearer ${a.authValue}`);
    if (a.auth === "cookie") h.set("cookie", `sdg_session=${credential}`);
  }
  const withBody = a.method !== "GET" && a.method !== "HEAD" && a.body !== undefined;
  return gateway(a.path, { method: a.method, headers: h, body: withBody ? a.body : undefined });
}

const CONTENT_DISPOSITION = /^attachment; filename="[\x20\x21\x23-\x5b\x5d-\x7e]+\.(mp4|m4a)"; filename\*=UTF-8''[A-Za-z0-9!#$&+.^_`|~%-]+$/;
const INJECTED_MARKUP = new RegExp(`<(script|img|svg)[^>]*${MARK}|<script>${MARK}`, "i");

function describeAttempt(a: Attempt): string {
  const shown = typeof a.body === "string" ? a.body.slice(0, 300) : a.body === undefined ? "none" : `${a.body.length} bytes`;
  return `${a.method} ${a.path.slice(0, 400)} headers=${JSON.stringify(a.headers).slice(0, 300)} accept=${a.accept} type=${a.contentType} auth=${a.auth} body=${shown}`;
}

/** Headers: none named or filled by the attacker, none that sets a cookie, Location and Content-Disposition in their safe forms. */
function checkHeaders(res: Response, context: string): void {
  expect(res.headers.get("set-cookie"), context).toBeNull();
  for (const [name, value] of res.headers) {
    expect(name, context).not.toContain(MARK);
    expect(/[\r\n\0]/.test(value), `${context}: header ${name}`).toBe(false);
    if (name === "location") {
      const target = new URL(value, GATEWAY);
      // Stream's tokenized URL, or in stream mode the gateway's own grant ticket.
      const own = target.origin === GATEWAY && /^\/d\/[\w-]+\.[\w-]+\.[\w-]+$/.test(target.pathname);
      if (!own) expect(target.origin, `${context}: ${value}`).toBe(DELIVERY_BASE);
      if (!own) expect(target.pathname, `${context}: ${value}`).toMatch(/^\/[\w-]+\.[\w-]+\.[\w-]+\/downloads\/(default\.mp4|audio\.m4a)$/);
      expect([...target.searchParams.keys()].filter((k) => k !== "filename"), context).toEqual([]);
      expect(target.searchParams.get("filename") ?? "x", context).toMatch(/^[A-Za-z0-9_-]{1,120}$/);
    } else if (name === "content-disposition") {
      expect(value, context).toMatch(CONTENT_DISPOSITION);
    } else {
      expect(value.toLowerCase(), `${context}: header ${name}`).not.toContain(MARK);
    }
  }
}

/** A 4xx problem (JSON, or HTML for browsers), or one of the route's legitimate statuses; never a 5xx. */
async function checkResponse(res: Response, a: Attempt, legit: number[]): Promise<void> {
  const context = `${describeAttempt(a)} → ${res.status}`;
  checkHeaders(res, context);
  const type = res.headers.get("content-type") ?? "";
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = type.startsWith("text/") || type.includes("json") ? new TextDecoder().decode(bytes) : "";
  if (type.startsWith("text/html")) {
    expect(res.headers.get("content-security-policy") ?? "", context).toContain("default-src 'none'");
    expect(text, context).not.toMatch(INJECTED_MARKUP);
  }
  if (res.status < 400) {
    expect(legit, context).toContain(res.status);
    return;
  }
  expect(res.status, context).toBeLessThan(500);
  if (a.method === "HEAD") return;
  if (type.startsWith("text/html")) {
    expect(a.accept ?? "", context).toMatch(/^\s*text\/html/i);
    return;
  }
  expect(type, context).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as { type: keyof typeof PROBLEM_STATUS; status: number; title: unknown; detail: unknown; instance: unknown };
  expect(
    {
      known: problem.type in PROBLEM_STATUS,
      status: problem.status,
      slug: PROBLEM_STATUS[problem.type],
      title: typeof problem.title,
      detail: typeof problem.detail,
      instance: typeof problem.instance === "string" && problem.instance.startsWith("/"),
    },
    context,
  ).toEqual({ known: true, status: res.status, slug: res.status, title: "string", detail: "string", instance: true });
}

// ── routes ──────────────────────────────────────────────────────────────────────────────────────

let uid = "";
let link = "";
let openLink = "";
/** A stream-mode grant's URL path segment (/d/<ticket>), with the hostile name inside. */
let ticket = "";
const adminLinks: string[] = [];

beforeAll(async () => {
  // A hostile name: it travels into the landing page, Content-Disposition and Stream's filename parameter.
  const name = `Fuzz <script>${MARK}()</script> "target"\r\nX-${MARK}: 1; filename=../../${MARK}.exe`;
  uid = (await seedVideo({ name, downloads: { default: "ready", audio: "ready" } })).uid;
  const creator = await appToken(randomUser(), { videos: [uid] });
  link = (await createShareLink(uid, creator, { maxDownloads: 1_000_000, password: "open sesame" })).secret;
  openLink = (await createShareLink(uid, creator, { maxDownloads: 1_000_000 })).secret;
  for (let i = 0; i < 3; i++) adminLinks.push((await createShareLink(uid, creator)).id);
  const granted = await gateway(`/s/${openLink}?mode=stream`, { method: "POST" });
  ticket = new URL(granted.headers.get("location") ?? "", GATEWAY).pathname.slice(3);
  // Refused webhooks are logged by design; the fuzz would flood the output.
  vi.spyOn(console, "warn").mockImplementation(() => {});
});

afterAll(() => {
  vi.restoreAllMocks();
});

interface RouteFuzz {
  name: string;
  method: string;
  who: Who;
  path: () => fc.Arbitrary<string>;
  body?: () => fc.Arbitrary<unknown>;
  /** Nearly valid requests, so that some runs get past validation into the handler. */
  validPath: () => fc.Arbitrary<string>;
  validBody?: () => fc.Arbitrary<unknown>;
  /** Non-error statuses this route may legitimately answer. */
  legit: number[];
}

const DOWNLOAD_KEYS = ["type", "mode", "filename"];
const DOWNLOAD_VALUES = ["default", "audio", "redirect", "stream", "Quarterly review", ""];
const isoDate = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString());

const shareLinkBody = (): fc.Arbitrary<unknown> =>
  fc.record(
    {
      type: mostly("default", "audio"),
      expiresIn: mostly(60, 3600, 604_800),
      maxDownloads: mostly(1, 3, 1_000_000),
      countries: mostly(["GB"], ["gb", "US"], ["IE", "GB", "FR"]),
      lockToIp: mostly(true, false),
      password: fc.oneof(garbage, fc.constant("open sesame")),
      note: garbage,
    },
    { requiredKeys: ["expiresIn"] },
  );

const grant = (withExpiry: boolean) =>
  fc.record(
    {
      user: fc.oneof(garbage.filter((g) => g.length > 0), fc.constant("fuzz-user")),
      video: mostly(randomUid(), randomUid()),
      ...(withExpiry ? { expiresAt: fc.oneof(isoDate, fc.constant(null), anyValue) } : {}),
    },
    { requiredKeys: ["user", "video"] },
  );

const ROUTES: RouteFuzz[] = [
  {
    name: "GET /v1/videos/:uid/download",
    method: "GET",
    who: "user",
    path: () => fc.tuple(segment(uid, randomUid()), query(DOWNLOAD_KEYS, DOWNLOAD_VALUES)).map(([s, q]) => `/v1/videos/${s}/download${q}`),
    validPath: () =>
      validQuery({ type: mostly("default", "audio"), mode: mostly("redirect", "stream"), filename: garbage }).map((q) => `/v1/videos/${uid}/download${q}`),
    legit: [200, 202, 302, 303],
  },
  {
    name: "POST /v1/videos/:uid/download-url",
    method: "POST",
    who: "user",
    path: () => fc.tuple(segment(uid), query(DOWNLOAD_KEYS, DOWNLOAD_VALUES)).map(([s, q]) => `/v1/videos/${s}/download-url${q}`),
    body: () => fc.record({ type: sometimes("default", "audio"), filename: fc.oneof(garbage, anyValue) }, { requiredKeys: [] }),
    validPath: () => validQuery({ type: mostly("default", "audio") }).map((q) => `/v1/videos/${uid}/download-url${q}`),
    validBody: () => fc.record({ type: mostly("default", "audio"), filename: garbage }, { requiredKeys: [] }),
    legit: [200, 202],
  },
  {
    name: "GET /v1/videos/:uid/downloads",
    method: "GET",
    who: "user",
    path: () => fc.tuple(segment(uid, randomUid()), query(["type"])).map(([s, q]) => `/v1/videos/${s}/downloads${q}`),
    validPath: () => fc.constantFrom(uid, randomUid()).map((s) => `/v1/videos/${s}/downloads`),
    legit: [200],
  },
  {
    name: "POST /v1/videos/:uid/share-links",
    method: "POST",
    who: "user",
    path: () => segment(uid).map((s) => `/v1/videos/${s}/share-links`),
    body: () =>
      fc.record(
        {
          type: sometimes("default", "audio"),
          expiresIn: fc.oneof(fc.integer({ min: -10, max: 10_000_000 }), sometimes(60, 3600, 604_800)),
          maxDownloads: fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), anyValue),
          countries: fc.oneof(fc.array(fc.oneof(fc.constantFrom("GB", "US", "gb", "XX", "T1", "UK", "", "GBR"), garbage), { maxLength: 4 }), anyValue),
          lockToIp: sometimes(true, false),
          password: fc.oneof(garbage, anyValue),
          note: fc.oneof(garbage, anyValue),
          [MARK]: anyValue,
        },
        { requiredKeys: [] },
      ),
    validPath: () => fc.constant(`/v1/videos/${uid}/share-links`),
    validBody: shareLinkBody,
    legit: [201],
  },
  {
    name: "GET /v1/share-links",
    method: "GET",
    who: "user",
    path: () => query(["limit", "cursor"], ["1", "100", "101", "0", "-1", "eyJ4IjoxfQ", "WzEsImEiXQ", "WzEsMl0"]).map((q) => `/v1/share-links${q}`),
    validPath: () => validQuery({ limit: mostly("1", "25", "100"), cursor: mostly("WzEsImEiXQ", "WzE3OTUzNzgwMDAwMDAsIkFBQUEiXQ") }).map((q) => `/v1/share-links${q}`),
    legit: [200],
  },
  {
    name: "DELETE /v1/share-links/:id",
    method: "DELETE",
    who: "user",
    path: () => segment(link, "A".repeat(32)).map((s) => `/v1/share-links/${s}`),
    validPath: () => fc.constantFrom(link, openLink, "A".repeat(32)).map((s) => `/v1/share-links/${s}`),
    legit: [204],
  },
  {
    name: "GET /d/:ticket",
    method: "GET",
    who: "public",
    path: () => fc.tuple(segment(ticket), query(["mode", "filename"], ["stream", MARK])).map(([s, q]) => `/d/${s}${q}`),
    validPath: () => fc.constant(ticket).map((s) => `/d/${s}`),
    legit: [200, 206, 416],
  },
  {
    name: "GET /s/:id",
    method: "GET",
    who: "public",
    path: () => fc.tuple(segment(link, openLink, "A".repeat(32)), query(["mode"], ["stream", "redirect"])).map(([s, q]) => `/s/${s}${q}`),
    validPath: () => fc.constantFrom(link, openLink).map((s) => `/s/${s}`),
    legit: [200],
  },
  {
    name: "POST /s/:id",
    method: "POST",
    who: "public",
    path: () => fc.tuple(segment(link, openLink, "A".repeat(32)), query(["mode"], ["stream", "redirect"])).map(([s, q]) => `/s/${s}${q}`),
    body: () => fc.record({ password: sometimes("open sesame"), [MARK]: anyValue }, { requiredKeys: [] }),
    validPath: () => fc.tuple(fc.constantFrom(link, openLink), validQuery({ mode: mostly("redirect", "stream") })).map(([s, q]) => `/s/${s}${q}`),
    validBody: () => fc.record({ password: fc.oneof(fc.constant("open sesame"), garbage) }, { requiredKeys: [] }),
    legit: [200, 202, 302, 303],
  },
  {
    name: "PUT /v1/admin/grants",
    method: "PUT",
    who: "admin",
    path: () => fc.constant("/v1/admin/grants"),
    body: () =>
      fc.record(
        {
          grants: fc.oneof(
            fc.array(fc.record({ user: sometimes("fuzz-user"), video: sometimes(randomUid()), expiresAt: fc.oneof(isoDate, anyValue) }, { requiredKeys: [] }), { maxLength: 3 }),
            anyValue,
          ),
        },
        { requiredKeys: [] },
      ),
    validPath: () => fc.constant("/v1/admin/grants"),
    validBody: () => fc.record({ grants: fc.array(grant(true), { minLength: 1, maxLength: 3 }) }),
    legit: [200],
  },
  {
    name: "DELETE /v1/admin/grants",
    method: "DELETE",
    who: "admin",
    path: () => fc.constant("/v1/admin/grants"),
    body: () => fc.record({ grants: fc.oneof(fc.array(fc.record({ user: sometimes("fuzz-user"), video: sometimes(randomUid()) }, { requiredKeys: [] }), { maxLength: 3 }), anyValue) }, { requiredKeys: [] }),
    validPath: () => fc.constant("/v1/admin/grants"),
    validBody: () => fc.record({ grants: fc.array(grant(false), { minLength: 1, maxLength: 3 }) }),
    legit: [200],
  },
  {
    name: "GET /v1/admin/grants",
    method: "GET",
    who: "admin",
    path: () => query(["user", "video", "limit", "cursor"], ["fuzz-user", randomUid(), "1", "1000", "1001", "WyJhIiwiYiJd"]).map((q) => `/v1/admin/grants${q}`),
    validPath: () => validQuery({ user: garbage, video: mostly(randomUid()), limit: mostly("1", "1000"), cursor: mostly("WyJhIiwiYiJd") }).map((q) => `/v1/admin/grants${q}`),
    legit: [200],
  },
  {
    name: "POST /v1/admin/videos/:uid/block",
    method: "POST",
    who: "admin",
    path: () => segment(randomUid()).map((s) => `/v1/admin/videos/${s}/block`),
    body: () => fc.record({ reason: fc.oneof(garbage, anyValue) }, { requiredKeys: [] }),
    validPath: () => fc.constant(`/v1/admin/videos/${randomUid()}/block`),
    validBody: () => fc.record({ reason: garbage }, { requiredKeys: [] }),
    legit: [200],
  },
  {
    name: "POST /v1/admin/videos/:uid/unblock",
    method: "POST",
    who: "admin",
    path: () => segment(randomUid()).map((s) => `/v1/admin/videos/${s}/unblock`),
    body: () => anyValue,
    validPath: () => fc.constant(`/v1/admin/videos/${randomUid()}/unblock`),
    legit: [200],
  },
  {
    name: "POST /v1/admin/videos/:uid/refresh",
    method: "POST",
    who: "admin",
    path: () => segment(randomUid()).map((s) => `/v1/admin/videos/${s}/refresh`),
    body: () => anyValue,
    validPath: () => fc.constant(`/v1/admin/videos/${randomUid()}/refresh`),
    legit: [200],
  },
  {
    name: "DELETE /v1/admin/share-links/:id",
    method: "DELETE",
    who: "admin",
    path: () => segment(...adminLinks).map((s) => `/v1/admin/share-links/${s}`),
    validPath: () => fc.constantFrom(...adminLinks).map((s) => `/v1/admin/share-links/${s}`),
    legit: [204],
  },
  {
    name: "POST /v1/admin/share-links/revoke",
    method: "POST",
    who: "admin",
    path: () => fc.constant("/v1/admin/share-links/revoke"),
    body: () => fc.record({ user: sometimes("fuzz-user"), video: sometimes(randomUid()) }, { requiredKeys: [] }),
    validPath: () => fc.constant("/v1/admin/share-links/revoke"),
    validBody: () => fc.oneof(fc.record({ user: fc.oneof(garbage, fc.constant("fuzz-user")) }), fc.record({ video: mostly(randomUid()) })),
    legit: [200],
  },
  {
    name: "GET /v1/admin/audit",
    method: "GET",
    who: "admin",
    path: () =>
      query(["video", "user", "link", "since", "cursor", "limit"], [randomUid(), "2026-01-01", "2026-01-01T00:00:00Z", "1", "1000", "1001", "WzEsMl0"]).map(
        (q) => `/v1/admin/audit${q}`,
      ),
    validPath: () =>
      validQuery({
        video: mostly(randomUid()),
        user: garbage,
        link: garbage,
        since: fc.oneof(isoDate, fc.constant("2026-01-01")),
        cursor: mostly("WzEsMl0", "WzE3OTUzNzgwMDAwMDAsNV0"),
        limit: mostly("1", "1000"),
      }).map((q) => `/v1/admin/audit${q}`),
    legit: [200],
  },
  {
    name: "GET /healthz",
    method: "GET",
    who: "public",
    path: () => query(["x"]).map((q) => `/healthz${q}`),
    validPath: () => fc.constant("/healthz"),
    legit: [200],
  },
];

/** Either garbage everywhere, or a nearly valid request (valid auth, JSON, valid path) with garbage in some fields. */
const attempt = (route: RouteFuzz): fc.Arbitrary<Attempt> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        method: fc.constant(route.method),
        path: route.path(),
        headers,
        body: route.body ? body(route.body()) : fc.constant<Body>(undefined),
        contentType,
        accept,
        auth,
        authValue: headerValue,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        method: fc.constant(route.method),
        path: route.validPath(),
        headers: fc.oneof(fc.constant({}), headers),
        body: route.validBody ? route.validBody().map((v) => JSON.stringify(v)) : fc.constant<Body>(undefined),
        contentType: fc.constant("application/json"),
        accept,
        auth: fc.constant<Auth>("valid"),
        authValue: fc.constant(""),
      }),
    },
  );

describe("garbage on every route: a 4xx problem or a legitimate answer, never a 5xx, no injected header", () => {
  for (const route of ROUTES) {
    test(route.name, async () => {
      await fc.assert(
        fc.asyncProperty(attempt(route), async (a) => {
          await checkResponse(await send(route.who, a), a, route.legit);
        }),
        { numRuns: RUNS },
      );
    }, 120_000);
  }

  test("POST /webhooks/stream (unsigned, wrongly signed and correctly signed garbage)", async () => {
    const secret = env.STREAM_WEBHOOK_SECRET;
    const video = fc.record(
      {
        uid: sometimes(uid, randomUid()),
        readyToStream: sometimes(true, false),
        status: fc.oneof(fc.record({ state: sometimes("ready", "error", "inprogress") }), anyValue),
        requireSignedURLs: sometimes(true, false),
        meta: fc.oneof(fc.record({ name: fc.oneof(garbage, anyValue) }), anyValue),
        [MARK]: anyValue,
      },
      { requiredKeys: [] },
    );
    const signing = fc.oneof(
      { arbitrary: fc.constant<"right">("right"), weight: 3 },
      { arbitrary: fc.constantFrom<"none" | "stale" | "wrong">("none", "stale", "wrong"), weight: 1 },
      { arbitrary: headerValue, weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(body(video), signing, headers, contentType, accept, async (payload, sign, extra, type, acceptValue) => {
        const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : (payload ?? new Uint8Array());
        const h = new Headers(extra);
        if (type !== undefined) h.set("content-type", type);
        if (acceptValue !== undefined) h.set("accept", acceptValue);
        const now = Math.floor(Date.now() / 1000);
        if (sign === "right" || sign === "stale" || sign === "wrong") {
          const time = sign === "stale" ? now - 3600 : now;
          const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(sign === "wrong" ? `${secret}x` : secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
          const signed = new Uint8Array([...new TextEncoder().encode(`${time}.`), ...bytes]);
          const mac = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, signed))].map((b) => b.toString(16).padStart(2, "0")).join("");
          h.set("webhook-signature", `time=${time},sig1=${mac}`);
        } else if (sign !== "none") {
          h.set("webhook-signature", sign);
        }
        const a: Attempt = { method: "POST", path: "/webhooks/stream", headers: Object.fromEntries(h), body: payload, contentType: type, accept: acceptValue, auth: "none", authValue: "" };
        await checkResponse(await gateway("/webhooks/stream", { method: "POST", headers: h, body: bytes }), a, [200]);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  test("any method on any route", async () => {
    const paths = [
      `/v1/videos/${uid}/download`,
      `/v1/videos/${uid}/download-url`,
      `/v1/videos/${uid}/downloads`,
      `/v1/videos/${uid}/share-links`,
      "/v1/share-links",
      `/v1/share-links/${"A".repeat(32)}`,
      `/s/${openLink}`,
      "/v1/admin/grants",
      `/v1/admin/videos/${randomUid()}/block`,
      "/v1/admin/audit",
      "/webhooks/stream",
      "/healthz",
      "/openapi.json",
    ];
    const methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "QUERY"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), fc.constantFrom(...paths), fc.constantFrom<Who>("user", "admin", "public"), headers, accept, async (method, path, who, extra, acceptValue) => {
        const a: Attempt = { method, path, headers: extra, body: undefined, contentType: undefined, accept: acceptValue, auth: "valid", authValue: "" };
        // Legitimate answers of the routes above to their own methods (and to CORS preflights).
        await checkResponse(await send(who, a), a, [200, 201, 202, 204, 206, 302, 303, 416]);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
