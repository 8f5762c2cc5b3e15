// Fixed attacks on the gateway's HTTP surface (docs/design.md, docs/security.md): open
// redirects, path injection through `:uid`, CSRF through the session cookie, link unfurlers eating
// share-link uses, share-link id enumeration, IDOR on every `:id` route, the admin API without
// its token, and CORS from foreign origins. Videos are seeded per test; users are fresh.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, test, vi } from "vitest";
import { counters, DELIVERY_BASE, seedVideo } from "../emulator/helpers";
import { admin, ADMIN_TOKEN, appToken, callWorker, createShareLink, envWith, expectProblem, gateway, GATEWAY, linkAuditCount, type ProblemBody, randomUid, randomUser, shareLinkRow } from "../helpers";

const READY = { name: "Board meeting", downloads: { default: "ready", audio: "ready" } };
const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const EVIL = "https://evil.example/phish";

afterEach(() => {
  vi.restoreAllMocks();
});

const anyone = () => appToken(randomUser(), { videos: "*" });

async function readyVideo(): Promise<string> {
  return (await seedVideo(READY)).uid;
}

/** A random id of the share-link format: 32 base64url characters. */
function randomLinkId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}


/** Everything a response says, with the body's `instance` (the request path) left out. */
async function shape(res: Response): Promise<{ status: number; headers: [string, string][]; body: unknown }> {
  const text = await res.text();
  let body: unknown = text;
  try {
    const { instance: _instance, ...rest } = JSON.parse(text) as ProblemBody;
    body = rest;
  } catch {
    // not JSON: compared as text
  }
  return { status: res.status, headers: [...res.headers.entries()].sort(), body };
}

describe("open redirect", () => {
  /** Where a Location may point: Stream's delivery host (a token path), or the gateway's own /s/ pages. */
  function expectSafeLocation(res: Response, what: string): void {
    for (const [name, value] of res.headers) if (name !== "location") expect(value, `${what}: header ${name}`).not.toMatch(/evil/i);
    const location = res.headers.get("location");
    if (location === null) return;
    const target = new URL(location, GATEWAY);
    // What may carry request input is Stream's filename parameter, reduced to its alphabet.
    expect([...target.searchParams.keys()].filter((k) => k !== "filename"), `${what}: ${location}`).toEqual([]);
    expect(target.searchParams.get("filename") ?? "x", `${what}: ${location}`).toMatch(/^[A-Za-z0-9_-]+$/);
    const stream = target.origin === DELIVERY_BASE && /^\/[\w-]+\.[\w-]+\.[\w-]+\/downloads\/(default\.mp4|audio\.m4a)$/.test(target.pathname);
    const own = target.origin === GATEWAY && (target.pathname.startsWith("/s/") || /^\/d\/[\w-]+\.[\w-]+\.[\w-]+$/.test(target.pathname));
    expect({ what, location, allowed: stream || own }).toEqual({ what, location, allowed: true });
  }

  const PARAMS = ["redirect", "redirect_uri", "redirectUrl", "next", "url", "return", "return_to", "returnTo", "continue", "callback", "target", "dest", "destination", "location", "goto", "r", "u"];
  const VALUES = [EVIL, "//evil.example", "/\\evil.example", "https:evil.example", "javascript:alert(1)", "%2F%2Fevil.example", `${DELIVERY_BASE}.evil.example/x`, `${DELIVERY_BASE}@evil.example`];

  test("GET download: no query parameter or header moves the Location off Stream's delivery host", async () => {
    const uid = await readyVideo();
    const queries = [
      ...PARAMS.flatMap((p) => VALUES.slice(0, 3).map((v) => `?${p}=${encodeURIComponent(v)}`)),
      ...VALUES.map((v) => `?filename=${encodeURIComponent(v)}`),
      `?filename=${encodeURIComponent("x\r\nLocation: https://evil.example")}`,
      `?mode=redirect&type=audio&next=${encodeURIComponent(EVIL)}`,
    ];
    for (const query of queries) {
      // A user of its own per request: one user may start 60 downloads a minute.
      const res = await gateway(`/v1/videos/${uid}/download${query}`, { token: await anyone() });
      expect(res.status, query).toBe(302);
      expectSafeLocation(res, query);
    }
    const headers: Record<string, string>[] = [
      { "x-forwarded-host": "evil.example" },
      { "x-forwarded-proto": "javascript" },
      { forwarded: "host=evil.example;proto=https" },
      { "x-original-url": "//evil.example/" },
      { "x-rewrite-url": "//evil.example/" },
      { referer: EVIL },
      { origin: "https://app.example" },
    ];
    for (const h of headers) {
      const res = await gateway(`/v1/videos/${uid}/download`, { token: await anyone(), headers: h });
      expect(res.status).toBe(302);
      expectSafeLocation(res, JSON.stringify(h));
    }
    // Another site's origin is refused before anything (identify/cross-site.ts), so it has no Location at all.
    const foreign = await gateway(`/v1/videos/${uid}/download`, { token: await anyone(), headers: { origin: "https://evil.example" } });
    await expectProblem(foreign, 403, "cross-site-request");
    expect(foreign.headers.get("location")).toBeNull();
  });

  test("POST download-url: the returned url is always on Stream's delivery host", async () => {
    const uid = await readyVideo();
    const token = await anyone();
    for (const body of [{}, { filename: EVIL }, { filename: "//evil.example" }]) {
      for (const query of ["", `?redirect=${encodeURIComponent(EVIL)}`, `?filename=${encodeURIComponent(EVIL)}`]) {
        const res = await gateway(`/v1/videos/${uid}/download-url${query}`, {
          method: "POST",
          token,
          headers: { "content-type": "application/json", "x-forwarded-host": "evil.example" },
          body: JSON.stringify(body),
        });
        expectSafeLocation(res, query);
        // An unknown field (the query joins the body) is refused rather than followed.
        if (query.startsWith("?redirect")) {
          await expectProblem(res, 400, "invalid-request");
          continue;
        }
        expect(res.status).toBe(200);
        const { url } = (await res.json()) as { url: string };
        expect(new URL(url).origin).toBe(DELIVERY_BASE);
        expect(new URL(url).searchParams.get("filename") ?? "x").toMatch(/^[A-Za-z0-9_-]+$/);
      }
    }
    // An unknown body field is refused rather than followed.
    const res = await gateway(`/v1/videos/${uid}/download-url`, {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect: EVIL }),
    });
    await expectProblem(res, 400, "invalid-request");
  });

  test("POST /s/:id (JSON, form and browser): the Location is Stream's, whatever the body or query names", async () => {
    const uid = await readyVideo();
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }));
    const attempts: RequestInit[] = [
      { headers: { "content-type": "application/json" }, body: JSON.stringify({ redirect: EVIL, next: EVIL, url: EVIL }) },
      { headers: { "content-type": "application/x-www-form-urlencoded", accept: BROWSER }, body: `redirect=${encodeURIComponent(EVIL)}&next=%2F%2Fevil.example` },
      { headers: { accept: BROWSER, referer: EVIL, "x-forwarded-host": "evil.example" } },
    ];
    for (const init of attempts) {
      for (const query of ["?mode=redirect", `?mode=redirect&redirect_uri=${encodeURIComponent(EVIL)}`, `?next=${encodeURIComponent("//evil.example")}`]) {
        const res = await gateway(`/s/${link.secret}${query}`, { method: "POST", ...init });
        expect([200, 302, 303]).toContain(res.status);
        expectSafeLocation(res, `${query} ${JSON.stringify(init.headers)}`);
        await res.arrayBuffer();
      }
    }
  });

  test("created share links point at the gateway itself, and paths that look like other hosts are plain 404s", async () => {
    const uid = await readyVideo();
    const token = await appToken(randomUser(), { videos: [uid] });
    const res = await gateway(`/v1/videos/${uid}/share-links`, {
      method: "POST",
      token,
      headers: { "content-type": "application/json", "x-forwarded-host": "evil.example", forwarded: "host=evil.example" },
      body: JSON.stringify({ type: "default", expiresIn: 3600, note: EVIL }),
    });
    expect(res.status).toBe(201);
    const { url } = (await res.json()) as { url: string };
    expect(new URL(url).origin).toBe(GATEWAY);
    for (const path of ["//evil.example/", "/%2F%2Fevil.example", "/s/%2F%2Fevil.example", "/\\evil.example", "/s/..%2F..%2F%2F%2Fevil.example", "/v1/videos/%2F%2Fevil.example/download"]) {
      const probe = await gateway(path, { token });
      expect(probe.status, path).toBeGreaterThanOrEqual(400);
      expect(probe.status, path).toBeLessThan(500);
      expectSafeLocation(probe, path);
      await probe.arrayBuffer();
    }
  });

  test("the browser's 'preparing' page refreshes itself, never to another URL", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const res = await gateway(`/v1/videos/${uid}/download?next=${encodeURIComponent(EVIL)}`, { token: await anyone(), headers: { accept: BROWSER } });
    expect(res.status).toBe(202);
    expectSafeLocation(res, "202 page");
    const html = await res.text();
    expect(html).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(html).not.toMatch(/url=|evil/i);
  });
});

describe("path injection through :uid", () => {
  /** Values that are not a UID but contain, decode to, or normalise towards one, or towards another Stream path. */
  function injections(uid: string): string[] {
    const head = uid.slice(0, 31);
    return [
      `${uid}%00`,
      `%00${uid}`,
      `${head}%00`,
      `${uid}%2F..%2F..%2Fkeys`,
      `..%2F..%2Fkeys%2F${uid}`,
      `${uid}%2Fdownloads`,
      `${uid}%2F`,
      `${uid}%3F`,
      `${uid}%3Fx%3D1`,
      `${uid}%23`,
      `${uid}%20`,
      `%20${uid}`,
      `${uid}%0D%0A`,
      `${uid}%09`,
      `${uid}%3B`,
      `${uid}.json`,
      `${uid}..`,
      `..%252F${uid}`,
      `%252e%252e%252fkeys`,
      `%2e%2e%2fkeys`,
      "keys",
      "keys%3F",
      "webhook",
      uid.toUpperCase(),
      `${uid}0`,
      head,
      `${head}${encodeURIComponent("\u0660")}`,
      `${head}${encodeURIComponent("\uff10")}`,
      `${head}${encodeURIComponent("\uff46")}`,
      // A Cyrillic "а" where a Latin letter would be (not a replace of every "a": a random UID
      // may have none, and the "injection" would then be the valid UID itself).
      encodeURIComponent(`${head}\u0430`),
      `${encodeURIComponent("\u202e")}${head}`,
      `${uid}${encodeURIComponent("\u200b")}`,
      `${head}%`,
      `${head}%zz`,
      `${uid}%C0%AF`,
    ];
  }

  function routes(segment: string): [string, string][] {
    return [
      ["GET", `/v1/videos/${segment}/download`],
      ["GET", `/v1/videos/${segment}/download?mode=stream`],
      ["POST", `/v1/videos/${segment}/download-url`],
      ["GET", `/v1/videos/${segment}/downloads`],
      ["POST", `/v1/videos/${segment}/share-links`],
      ["POST", `/v1/admin/videos/${segment}/block`],
      ["POST", `/v1/admin/videos/${segment}/unblock`],
      ["POST", `/v1/admin/videos/${segment}/refresh`],
    ];
  }

  const UNREACHABLE = [
    "videos.list",
    "videos.edit",
    "downloads.delete",
    "keys.create",
    "keys.list",
    "keys.delete",
    "webhook.update",
    "webhook.get",
    "webhook.delete",
    "token.create",
  ];

  test("every :uid route answers 400 invalid-request (field uid) or a 404, and nothing reaches Stream", async () => {
    const uid = await readyVideo();
    const token = await anyone();
    let quiet = false;
    // The emulator's counters are global, and other files' background work (revalidations) may
    // read videos and downloads meanwhile; but nothing the gateway does ever calls these
    // operations, so a window in which they did not move shows no injection reached them, and the
    // video's own counters (checked below) show none reached it.
    for (let attempt = 0; attempt < 3 && !quiet; attempt++) {
      const before = await counters();
      for (const segment of injections(uid)) {
        for (const [method, path] of routes(segment)) {
          const admin = path.startsWith("/v1/admin/");
          const res = await gateway(path, {
            method,
            token: admin ? ADMIN_TOKEN : token,
            headers: method === "POST" ? { "content-type": "application/json" } : {},
            body: method === "POST" ? JSON.stringify(path.includes("share-links") ? { type: "default", expiresIn: 3600 } : {}) : undefined,
          });
          const text = await res.text();
          expect({ path, status: [400, 404].includes(res.status) ? "400 or 404" : res.status }).toEqual({ path, status: "400 or 404" });
          const body = JSON.parse(text) as ProblemBody;
          if (res.status === 400) expect({ path, type: body.type, field: body.field }).toEqual({ path, type: "invalid-request", field: "uid" });
          else expect({ path, type: body.type }).toEqual({ path, type: "not-found" });
        }
      }
      const after = await counters();
      quiet = UNREACHABLE.every((op) => (after.byOperation[op] ?? 0) === (before.byOperation[op] ?? 0));
    }
    expect(quiet).toBe(true);
    expect(await counters(uid)).toEqual({ api: 0, delivery: 0, byOperation: {} });
    const blocked = await env.DB.prepare("SELECT COUNT(*) AS n FROM blocked_videos WHERE video_id LIKE ?").bind(`%${uid.slice(0, 31)}%`).first<{ n: number }>();
    expect(blocked?.n).toBe(0);
  });
});

describe("CSRF through the session cookie", () => {
  test("cookie-only POST, PUT and DELETE on every mutating route is refused, whatever the content type, and changes nothing", async () => {
    const uid = await readyVideo();
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    const link = await createShareLink(uid, token, { maxDownloads: 2 });
    const routes: [string, string, string][] = [
      ["POST", `/v1/videos/${uid}/download-url`, JSON.stringify({ type: "default" })],
      ["POST", `/v1/videos/${uid}/share-links`, JSON.stringify({ type: "default", expiresIn: 3600 })],
      ["DELETE", `/v1/share-links/${link.id}`, ""],
      ["PUT", "/v1/admin/grants", JSON.stringify({ grants: [{ user, video: randomUid() }] })],
      ["DELETE", "/v1/admin/grants", JSON.stringify({ grants: [{ user, video: uid }] })],
      ["POST", `/v1/admin/videos/${uid}/block`, "{}"],
      ["POST", `/v1/admin/videos/${uid}/unblock`, ""],
      ["POST", `/v1/admin/videos/${uid}/refresh`, ""],
      ["DELETE", `/v1/admin/share-links/${link.id}`, ""],
      ["POST", "/v1/admin/share-links/revoke", JSON.stringify({ user })],
    ];
    const cookies = [
      `sdg_session=${token}`,
      `sdg_session="${token}"`,
      `sdg_session=${ADMIN_TOKEN}`,
      `authorization=Bearer ${ADMIN_TOKEN}`,
      `Authorization=Bearer%20${token}`,
      `theme=dark; sdg_session=${token}; admin=${ADMIN_TOKEN}`,
    ];
    const contentTypes = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"];
    for (const [method, path, body] of routes) {
      for (const cookie of cookies) {
        for (const contentType of contentTypes) {
          const res = await gateway(path, {
            method,
            headers: { cookie, "content-type": contentType, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
            body: body === "" ? undefined : body,
          });
          // The user's routes refuse another site before identifying anyone; the admin API takes no cookie at all.
          if (path.startsWith("/v1/admin/")) await expectProblem(res, 401, "unauthenticated");
          else await expectProblem(res, 403, "cross-site-request");
          expect(res.headers.get("access-control-allow-origin")).toBeNull();
        }
      }
      // Without a browser's headers the cookie is still no credential on a route that acts.
      const res = await gateway(path, { method, headers: { cookie: cookies[0]!, "content-type": "application/json" }, body: body === "" ? undefined : body });
      await expectProblem(res, 401, "unauthenticated");
    }

    // Nothing happened: the link is untouched, no second link, no grant, the video is not blocked.
    expect(await shareLinkRow(link.id)).toMatchObject({ uses: 0, revoked_at: null });
    const list = (await (await gateway("/v1/share-links", { token })).json()) as { links: { id: string; status: string }[] };
    expect(list.links.map((l) => [l.id, l.status])).toEqual([[link.id, "active"]]);
    const grants = (await (await admin("GET", `/v1/admin/grants?user=${encodeURIComponent(user)}`)).json()) as { grants: unknown[] };
    expect(grants.grants).toEqual([]);
    expect((await gateway(`/v1/videos/${uid}/download`, { token })).status).toBe(302);
  });

  test("method overrides cannot turn a cookie-carrying POST into a DELETE", async () => {
    const uid = await readyVideo();
    const token = await appToken(randomUser(), { videos: [uid] });
    const link = await createShareLink(uid, token);
    const attempts: { headers: Record<string, string>; body?: string }[] = [
      { headers: { cookie: `sdg_session=${token}`, "x-http-method-override": "DELETE" } },
      { headers: { cookie: `sdg_session=${token}`, "x-http-method": "DELETE", "x-method-override": "DELETE" } },
      { headers: { cookie: `sdg_session=${token}`, "content-type": "application/x-www-form-urlencoded" }, body: "_method=DELETE" },
    ];
    for (const init of attempts) {
      for (const path of [`/v1/share-links/${link.id}`, `/v1/share-links/${link.id}?_method=DELETE`]) {
        const res = await gateway(path, { method: "POST", ...init });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        await res.arrayBuffer();
      }
    }
    expect((await shareLinkRow(link.id)).revoked_at).toBeNull();
  });
});

type Counters = Awaited<ReturnType<typeof counters>>;
const apartFromHeads = ({ byOperation: { ["delivery.head"]: heads = 0, ...byOperation }, ...rest }: Counters) => ({ heads, others: { ...rest, byOperation } });

describe("link unfurlers", () => {
  const UNFURLERS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Microsoft Outlook/16.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    "Mozilla/5.0 (compatible; MSOffice 16; Microsoft Teams)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Discordbot/2.0; +https://discordapp.com",
    "WhatsApp/2.23.20.0",
    "TelegramBot (like TwitterBot)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
  ];

  test("GET (HTML or JSON, any query, prefetch hints), HEAD and OPTIONS on /s/:id take no use and fetch no file from Stream", async () => {
    const uid = await readyVideo();
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { maxDownloads: 2 });
    const before = await counters(uid);
    const requests: [string, string, Record<string, string>][] = [];
    for (const ua of UNFURLERS) {
      requests.push(["GET", "", { "user-agent": ua, accept: BROWSER }]);
      requests.push(["GET", "", { "user-agent": ua, accept: "*/*" }]);
      requests.push(["HEAD", "", { "user-agent": ua }]);
    }
    requests.push(
      ["GET", "?mode=stream", { accept: "*/*" }],
      ["GET", "?mode=redirect", { accept: BROWSER }],
      ["GET", "", { range: "bytes=0-", accept: "*/*" }],
      ["GET", "", { purpose: "prefetch", "sec-purpose": "prefetch", accept: BROWSER }],
      ["HEAD", "?mode=stream", {}],
      ["OPTIONS", "", {}],
      ["OPTIONS", "", { origin: "https://evil.example", "access-control-request-method": "POST" }],
    );
    for (const [method, query, headers] of requests) {
      const res = await gateway(`/s/${link.secret}${query}`, { method, headers });
      expect(res.status, `${method} ${query} ${headers["user-agent"] ?? ""}`).not.toBe(302);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("location")).toBeNull();
      if (method === "GET") {
        expect(res.status).toBe(200);
        expect(res.headers.get("x-robots-tag")).toMatch(/noindex/);
      }
      await res.arrayBuffer();
    }
    expect(await shareLinkRow(link.id)).toMatchObject({ uses: 0 });
    expect(await linkAuditCount(link.id)).toBe(0);
    // Stream's delivery host is asked for the file's size once (a HEAD: no body), and nothing else.
    const [b, a] = [apartFromHeads(before), apartFromHeads(await counters(uid))];
    expect(a.others).toEqual(b.others);
    expect(a.heads - b.heads).toBe(1);
    const facts = (await (await gateway(`/s/${link.secret}`)).json()) as { remainingDownloads: number };
    expect(facts.remainingDownloads).toBe(2);
  });
});

describe("share-link id guessing", () => {
  const MALFORMED = [
    "a",
    "x".repeat(31),
    "x".repeat(33),
    "x".repeat(600),
    `${"A".repeat(31)}+`,
    `${"A".repeat(31)}=`,
    `${"A".repeat(31)}%00`,
    `${"A".repeat(31)}%2F`,
    encodeURIComponent("é".repeat(32)),
    encodeURIComponent("<script>alert(1)</script>"),
    encodeURIComponent("' OR 1=1 --"),
    "%25",
    "%zz",
  ];

  /** The id routes and how each is called. */
  const CALLS: [string, (id: string) => Promise<Response>][] = [
    ["GET /s/:id", (id) => gateway(`/s/${id}`)],
    ["GET /s/:id (browser)", (id) => gateway(`/s/${id}`, { headers: { accept: BROWSER } })],
    ["POST /s/:id", (id) => gateway(`/s/${id}?mode=redirect`, { method: "POST" })],
    ["DELETE /v1/share-links/:id", async (id) => gateway(`/v1/share-links/${id}`, { method: "DELETE", token: await anyone() })],
    ["DELETE /v1/admin/share-links/:id", (id) => admin("DELETE", `/v1/admin/share-links/${id}`)],
  ];

  test.each(CALLS)("%s: random and malformed ids all get the same 404, identical apart from instance", async (_, call) => {
    const answers = [];
    for (const id of [...Array.from({ length: 12 }, randomLinkId), ...MALFORMED]) {
      const res = await call(id);
      expect(res.status, id).toBe(404);
      answers.push({ id, ...(await shape(res)) });
    }
    const [first] = answers;
    for (const { id, ...rest } of answers) expect({ id, ...rest }).toEqual({ ...first, id });
  });

  test("unknown and malformed ids cost the same D1 work (no early exit that tells them apart)", async () => {
    const statements = async (call: (testEnv: Env) => Promise<Response>) => {
      const log: string[] = [];
      await (await call(countingEnv(log))).arrayBuffer();
      return log.length;
    };
    const token = await anyone();
    const work: Record<string, Record<string, number>> = {};
    for (const [name, call] of [
      ["GET /s/:id", (e: Env, id: string) => callWorker(e, `/s/${id}`)],
      ["POST /s/:id", (e: Env, id: string) => callWorker(e, `/s/${id}?mode=redirect`, { method: "POST" })],
      ["DELETE /v1/share-links/:id", (e: Env, id: string) => callWorker(e, `/v1/share-links/${id}`, { method: "DELETE", token })],
    ] as const) {
      work[name] = { unknown: await statements((e) => call(e, randomLinkId())) };
      for (const id of ["a", "x".repeat(33), `${"A".repeat(31)}%00`]) work[name]![id] = await statements((e) => call(e, id));
    }
    const same = Object.fromEntries(Object.entries(work).map(([name, counts]) => [name, Object.fromEntries(Object.keys(counts).map((k) => [k, counts.unknown]))]));
    expect(work).toEqual(same);
  });
});

/** The test env with every D1 statement the gateway prepares logged (sessions included). */
function countingEnv(log: string[]): Env {
  type Preparer = { prepare(sql: string): D1PreparedStatement };
  const counted = <T extends Preparer>(target: T): T =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            log.push(sql);
            return t.prepare(sql);
          };
        }
        if (prop === "withSession") {
          return (constraint?: string) => counted((t as unknown as D1Database).withSession(constraint as D1SessionConstraint));
        }
        const value: unknown = Reflect.get(t, prop, t);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(t) : value;
      },
    });
  return { ...env, DB: counted(env.DB) } as Env;
}

describe("IDOR", () => {
  test("another user's share link: DELETE is the same 404 as an unknown id, and the link lives on", async () => {
    const uid = await readyVideo();
    const alice = randomUser();
    const aliceToken = await appToken(alice, { videos: [uid] });
    const link = await createShareLink(uid, aliceToken, { maxDownloads: 3 });
    const unknown = await shape(await gateway(`/v1/share-links/${randomLinkId()}`, { method: "DELETE", token: await anyone() }));
    // Bob is entitled to the same video, and tries look-alike identities too.
    for (const sub of [randomUser(), alice.toUpperCase(), `${alice} `, ` ${alice}`, `${alice}\u200b`, alice.normalize("NFKD").replace("-", "\u2010")]) {
      const res = await gateway(`/v1/share-links/${link.id}`, { method: "DELETE", token: await appToken(sub, { videos: "*" }) });
      expect({ sub, ...(await shape(res)) }).toEqual({ sub, ...unknown });
    }
    // A sub with a control character is no user id at all.
    const nul = await gateway(`/v1/share-links/${link.id}`, { method: "DELETE", token: await appToken(`${alice}\u0000`, { videos: "*" }) });
    await expectProblem(nul, 401, "unauthenticated");
    expect((await shareLinkRow(link.id)).revoked_at).toBeNull();
    expect((await gateway(`/s/${link.secret}`)).status).toBe(200);
    // And only Alice can revoke it.
    expect((await gateway(`/v1/share-links/${link.id}`, { method: "DELETE", token: aliceToken })).status).toBe(204);
  });

  test("another user's links never show in the list, whatever the query or cursor says", async () => {
    const uid = await readyVideo();
    const alice = randomUser();
    const aliceLinks = [];
    for (let i = 0; i < 3; i++) aliceLinks.push((await createShareLink(uid, await appToken(alice, { videos: [uid] }))).id);
    const bob = await appToken(randomUser(), { videos: "*" });
    const cursor = (key: unknown) => btoa(JSON.stringify(key)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const row = await env.DB.prepare("SELECT created_at FROM share_links WHERE secret = ?").bind(aliceLinks[0]).first<{ created_at: number }>();
    const queries = [
      "",
      `?user=${encodeURIComponent(alice)}`,
      `?creator=${encodeURIComponent(alice)}&sub=${encodeURIComponent(alice)}`,
      `?cursor=${cursor([Date.now() + 86_400_000, "~"])}`,
      `?cursor=${cursor([(row?.created_at ?? 0) + 1, aliceLinks[0]])}&limit=100`,
      `?limit=100&user[]=${encodeURIComponent(alice)}`,
    ];
    for (const query of queries) {
      const res = await gateway(`/v1/share-links${query}`, { token: bob });
      if (res.status === 200) {
        expect((await res.json()) as { links: unknown[] }).toMatchObject({ links: [] });
      } else {
        await expectProblem(res, 400, "invalid-request");
      }
    }
    const mine = (await (await gateway("/v1/share-links?limit=100", { token: await appToken(alice) })).json()) as { links: { id: string }[] };
    expect(mine.links.map((l) => l.id).sort()).toEqual([...aliceLinks].sort());
  });

  test(":uid routes of a video the user is not entitled to look exactly like an unknown video", async () => {
    const uid = await readyVideo();
    const stranger = await appToken(randomUser(), { videos: [randomUid()] });
    for (const [method, path] of [
      ["GET", "/download"],
      ["GET", "/downloads"],
      ["POST", "/download-url"],
      ["POST", "/share-links"],
    ] as const) {
      const init = {
        method,
        token: stranger,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? JSON.stringify(path === "/share-links" ? { type: "default", expiresIn: 3600 } : {}) : undefined,
      };
      const known = await shape(await gateway(`/v1/videos/${uid}${path}`, init));
      const unknown = await shape(await gateway(`/v1/videos/${randomUid()}${path}`, init));
      expect(known.status).toBe(403);
      expect(known).toEqual(unknown);
    }
    expect((await counters(uid)).api).toBe(0);
  });

  test("a user token cannot reach the admin share-link and audit routes", async () => {
    const uid = await readyVideo();
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }));
    const bob = await anyone();
    await expectProblem(await gateway(`/v1/admin/share-links/${link.id}`, { method: "DELETE", token: bob }), 401, "unauthenticated");
    await expectProblem(await gateway(`/v1/admin/audit?link=${link.id}`, { token: bob }), 401, "unauthenticated");
    expect((await shareLinkRow(link.id)).revoked_at).toBeNull();
  });
});

describe("admin API without its token", () => {
  const uid = randomUid();
  const ROUTES: [string, string, unknown][] = [
    ["PUT", "/v1/admin/grants", { grants: [{ user: "mallory", video: uid }] }],
    ["DELETE", "/v1/admin/grants", { grants: [{ user: "mallory", video: uid }] }],
    ["GET", "/v1/admin/grants", undefined],
    ["GET", "/v1/admin/grants?user=mallory", undefined],
    ["POST", `/v1/admin/videos/${uid}/block`, { reason: "x" }],
    ["POST", `/v1/admin/videos/${uid}/unblock`, undefined],
    ["POST", `/v1/admin/videos/${uid}/refresh`, undefined],
    ["DELETE", `/v1/admin/share-links/${"A".repeat(32)}`, undefined],
    ["POST", "/v1/admin/share-links/revoke", { user: "mallory" }],
    ["GET", "/v1/admin/audit", undefined],
    ["GET", "/v1/admin/audit?user=mallory", undefined],
  ];

  const credentials = async (): Promise<Record<string, string>[]> => [
    {},
    { authorization: "" },
    { authorization: "Bearer" },
    { authorization: "Bearer wrong-token" },
    { authorization: "Bearer test-admin-token-on" },
    { authorization: "Bearer test-admin-token-onee" },
    { authorization: "Bearer TEST-ADMIN-TOKEN-ONE" },
    { authorization: `Bearer ${env.ADMIN_API_TOKEN}` },
    { authorization: "Bearer ," },
    { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` },
    { authorization: ADMIN_TOKEN },
    { authorization: `Token ${ADMIN_TOKEN}` },
    { authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` },
    { authorization: `Bearer ${await appToken("admin", { videos: "*", admin: true, role: "admin" })}` },
    { cookie: `sdg_session=${ADMIN_TOKEN}; admin_token=${ADMIN_TOKEN}` },
    { "x-admin-token": ADMIN_TOKEN, "x-api-key": ADMIN_TOKEN },
  ];

  test("every admin route answers 401 with a challenge, for no token, a wrong one and look-alikes", async () => {
    for (const [method, path, body] of ROUTES) {
      for (const headers of await credentials()) {
        for (const suffix of ["", `${path.includes("?") ? "&" : "?"}token=${ADMIN_TOKEN}&access_token=${ADMIN_TOKEN}`]) {
          const res = await gateway(`${path}${suffix}`, {
            method,
            headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          await expectProblem(res, 401, "unauthenticated");
          expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="/);
        }
      }
    }
    const grants = (await (await admin("GET", "/v1/admin/grants?user=mallory")).json()) as { grants: unknown[] };
    expect(grants.grants).toEqual([]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM blocked_videos WHERE video_id = ?").bind(uid).first<{ n: number }>()).toEqual({ n: 0 });
  });

  test("with ADMIN_API_TOKEN unset the admin API is closed, even to the old token and to an empty bearer", async () => {
    const closed = envWith({ ADMIN_API_TOKEN: "" });
    for (const [method, path, body] of ROUTES) {
      for (const authorization of [`Bearer ${ADMIN_TOKEN}`, "Bearer ", "Bearer", ""]) {
        const res = await callWorker(closed, path, {
          method,
          headers: { authorization, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        await expectProblem(res, 401, "unauthenticated");
      }
    }
  });
});

describe("CORS from foreign origins", () => {
  const FOREIGN = [
    "https://evil.example",
    "null",
    "https://app.example.evil.example",
    "https://evilapp.example",
    "https://app.example.",
    "http://app.example",
    "https://app.example:8443",
    "https://APP.EXAMPLE",
    "https://app.example/",
    "https://sub.app.example",
    "https://app.example%60.evil.example",
    "*",
    "",
  ];

  function routes(uid: string, link: string): [string, string][] {
    return [
      ["GET", `/v1/videos/${uid}/download`],
      ["POST", `/v1/videos/${uid}/download-url`],
      ["GET", `/v1/videos/${uid}/downloads`],
      ["POST", `/v1/videos/${uid}/share-links`],
      ["GET", "/v1/share-links"],
      ["DELETE", `/v1/share-links/${link}`],
      ["PUT", "/v1/admin/grants"],
      ["GET", "/v1/admin/audit"],
      ["POST", `/v1/admin/videos/${uid}/block`],
      ["GET", `/s/${link}`],
      ["POST", `/s/${link}`],
      ["POST", "/webhooks/stream"],
      ["GET", "/healthz"],
      ["GET", "/openapi.json"],
    ];
  }

  test("neither preflights nor actual requests from a foreign origin get access-control-allow-origin", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const uid = await readyVideo();
    const token = await appToken(randomUser(), { videos: [uid] });
    const link = await createShareLink(uid, token);
    for (const [method, path] of routes(uid, link.id)) {
      for (const origin of FOREIGN) {
        const preflight = await gateway(path, {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization,content-type" },
        });
        expect({ path, origin, acao: preflight.headers.get("access-control-allow-origin") }).toEqual({ path, origin, acao: null });
        await preflight.arrayBuffer();
        const actual = await gateway(path, {
          method,
          token: path.includes("admin") ? ADMIN_TOKEN : token,
          headers: method === "GET" ? { origin } : { origin, "content-type": "application/json" },
          body: method === "GET" ? undefined : "{}",
        });
        expect({ path, origin, acao: actual.headers.get("access-control-allow-origin") }).toEqual({ path, origin, acao: null });
        await actual.arrayBuffer();
      }
    }
    // The configured app origin is still allowed: the refusals above are about the origin.
    const ok = await gateway(`/v1/videos/${uid}/downloads`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "GET" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });
});
