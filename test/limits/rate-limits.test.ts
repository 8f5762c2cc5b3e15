// The rate limits as the docs promise them (docs/security.md, docs/http-api.md, docs/configuration.md),
// over HTTP only: USER_RATE_LIMITER (60 a minute per user), IP_RATE_LIMITER (120 a minute per
// IPv4 address or IPv6 /64) and LINK_PASSWORD_LIMITER (10 a minute per link and network).
//
// Already covered elsewhere, not repeated here: the 61st download of one user (routes/downloads),
// share-link creation and the status route per user, the demo's list per IP and per /64
// (routes/controls), wrong passwords per link and /64 (routes/share-page), the Stream API
// shares (routes/controls). Here: the other user routes and addresses, the anonymous routes, the
// /64's text forms and its neighbour, that a refused request spends nothing, right passwords.
//
// Miniflare's limiters count per key in windows aligned to the wall-clock minute and do not count
// a refusal. Every test uses its own users, addresses and links, so no count leaks between tests
// or runs, and sends each burst at once after clearOfLimiterRollover, inside one window.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { counters, seedVideo } from "../emulator/helpers";
import {
  appToken,
  auditCount,
  callWorker,
  clearOfLimiterRollover,
  createShareLink,
  envWith,
  expectProblem,
  gateway,
  LIMITER_BURST_TIMEOUT_MS,
  linkAuditCount,
  quotaUsed,
  randomUser,
  shareLinkRow,
  ticketPath,
} from "../helpers";

const USER_LIMIT = 60;
const IP_LIMIT = 120;
const PASSWORD_LIMIT = 10;

const READY = { name: "Limits", downloads: { default: "ready", audio: "ready" } };

const byte = () => Math.floor(Math.random() * 254) + 1;
const group = () => Math.floor(Math.random() * 0xfffe + 1).toString(16);
/** A fresh IPv4 address in 10/8, which no other test file uses. */
const randomIPv4 = () => `10.${byte()}.${byte()}.${byte()}`;
/** A fresh IPv6 /64 (its first four groups), under 2001:db8::/32. */
const randomPrefix64 = () => `2001:db8:${group()}:${group()}`;
const from = (ip: string) => ({ "cf-connecting-ip": ip });

/** A well-formed path the ticket route answers 404 to: the cheapest request the per-IP limit counts. */
const BOGUS_TICKET = "/d/not-a-ticket";

/** Reads every response's body and returns the statuses, in order. */
async function statuses(responses: Response[]): Promise<number[]> {
  return Promise.all(responses.map(async (res) => (await res.arrayBuffer(), res.status)));
}

/** `count` requests at once (after clearOfLimiterRollover, by the caller): their statuses. */
async function burst(count: number, request: (i: number) => Promise<Response>): Promise<number[]> {
  return statuses(await Promise.all(Array.from({ length: count }, (_, i) => request(i))));
}

/**
 * 429 `rate-limited` with a Retry-After of at most the limiters' minute: as problem+json with the
 * same `retryAfter`, or for a browser (`what` says so) as a page that names the problem.
 */
async function expectRateLimited(res: Response, what: string): Promise<void> {
  expect({ what, status: res.status }).toEqual({ what, status: 429 });
  const retryAfter = res.headers.get("retry-after");
  expect({ what, retryAfter }).toEqual({ what, retryAfter: expect.stringMatching(/^\d+$/) });
  expect(Number(retryAfter)).toBeGreaterThan(0);
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  if (what.startsWith("HEAD")) return; // no body to read
  if (what.includes("browser")) {
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain('data-problem="rate-limited"');
    return;
  }
  const body = await expectProblem(res, 429, "rate-limited");
  expect(body["retryAfter"]).toBe(Number(retryAfter));
}

/** The user routes, as `token`'s user would call them, for a video and a link of theirs. */
function userRoutes(uid: string, linkId: string, token: string, headers: Record<string, string>): [string, () => Promise<Response>][] {
  const json = { ...headers, "content-type": "application/json" };
  return [
    ["GET download", () => gateway(`/v1/videos/${uid}/download`, { token, headers })],
    ["GET download (stream)", () => gateway(`/v1/videos/${uid}/download?mode=stream`, { token, headers })],
    ["HEAD download", () => gateway(`/v1/videos/${uid}/download`, { method: "HEAD", token, headers })],
    ["GET download by cookie", () => gateway(`/v1/videos/${uid}/download`, { headers: { ...headers, cookie: `sdg_session=${token}` } })],
    ["GET downloads", () => gateway(`/v1/videos/${uid}/downloads`, { token, headers })],
    ["POST download-url", () => gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token, headers: json, body: "{}" })],
    ["POST share-links", () => gateway(`/v1/videos/${uid}/share-links`, { method: "POST", token, headers: json, body: JSON.stringify({ type: "default", expiresIn: 3600, delivery: "redirect" }) })],
    ["GET share-links", () => gateway("/v1/share-links", { token, headers })],
    ["GET share-link uses", () => gateway(`/v1/share-links/${linkId}/uses`, { token, headers })],
    ["POST share-link reinstate", () => gateway(`/v1/share-links/${linkId}/reinstate`, { method: "POST", token, headers })],
    ["DELETE share-link", () => gateway(`/v1/share-links/${linkId}`, { method: "DELETE", token, headers })],
  ];
}

/** The share links `user` has created, read behind the gateway's back. */
async function linksOf(user: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM share_links WHERE creator = ?1").bind(user).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("per user (USER_RATE_LIMITER, 60 a minute)", () => {
  test("past the limit the user is refused on every user route, from any address; another user at the same address is served", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    const [home, elsewhere] = [randomIPv4(), randomIPv4()];

    await clearOfLimiterRollover();
    // The link's creation is the first of the minute's 60 (so after the wait, in the same window).
    const link = await createShareLink(uid, token, { maxDownloads: 5 });
    const spent = await burst(USER_LIMIT - 1, () => gateway("/v1/share-links", { token, headers: from(home) }));
    expect(spent.filter((s) => s !== 200)).toEqual([]);

    // The limit follows the user, not the address: from another address, every route refuses.
    for (const [what, call] of userRoutes(uid, link.id, token, from(elsewhere))) await expectRateLimited(await call(), what);
    // A refused DELETE revoked nothing, a refused POST created nothing.
    expect((await shareLinkRow(link.id)).revoked_at).toBeNull();
    expect(await linksOf(user)).toBe(1);

    // Someone else at the user's own address is served on the same routes (well under its 120).
    const other = randomUser();
    const otherToken = await appToken(other, { videos: [uid] });
    const otherLink = await createShareLink(uid, otherToken);
    const served = new Map<string, number>();
    for (const [what, call] of userRoutes(uid, otherLink.id, otherToken, from(home))) served.set(what, (await statuses([await call()]))[0]!);
    expect(Object.fromEntries(served)).toEqual({
      "GET download": 302,
      "GET download (stream)": 303,
      "HEAD download": 302,
      "GET download by cookie": 302,
      "GET downloads": 200,
      "POST download-url": 200,
      "POST share-links": 201,
      "GET share-links": 200,
      "GET share-link uses": 200,
      "POST share-link reinstate": 200,
      "DELETE share-link": 204,
    });
  }, LIMITER_BURST_TIMEOUT_MS);

  test("a user past the limit spends nothing: no call to Stream, no quota unit, no audit row, no link", async () => {
    const quota = envWith({ DAILY_DOWNLOAD_QUOTA: "5" });
    // A video Stream has no download of yet (a served GET would create one) and a ready one.
    const { uid: fresh } = await seedVideo({ name: "No download yet" });
    const { uid: ready } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user, { videos: [fresh, ready] });
    const ip = randomIPv4();

    await clearOfLimiterRollover();
    const spent = await burst(USER_LIMIT, () => callWorker(quota, "/v1/share-links", { token, headers: from(ip) }));
    expect(spent.filter((s) => s !== 200)).toEqual([]);

    const json = { ...from(ip), "content-type": "application/json" };
    await expectRateLimited(await callWorker(quota, `/v1/videos/${fresh}/download`, { token, headers: from(ip) }), "GET download (fresh)");
    await expectRateLimited(await callWorker(quota, `/v1/videos/${fresh}/downloads`, { token, headers: from(ip) }), "GET downloads (fresh)");
    await expectRateLimited(await callWorker(quota, `/v1/videos/${ready}/download`, { token, headers: from(ip) }), "GET download (ready)");
    await expectRateLimited(await callWorker(quota, `/v1/videos/${ready}/download-url`, { method: "POST", token, headers: json, body: "{}" }), "POST download-url");
    await expectRateLimited(
      await callWorker(quota, `/v1/videos/${fresh}/share-links`, { method: "POST", token, headers: json, body: JSON.stringify({ type: "default", expiresIn: 3600, password: "pbkdf2 costs" }) }),
      "POST share-links",
    );

    expect((await counters(fresh)).api).toBe(0);
    expect((await counters(ready)).api).toBe(0);
    expect(await quotaUsed(user)).toBe(0);
    expect(await auditCount("user_id = ?1", user)).toBe(0);
    expect(await linksOf(user)).toBe(0);

    // The same requests by someone else spend what they should: the counters above could move.
    const other = randomUser();
    const otherToken = await appToken(other, { videos: [fresh, ready] });
    expect((await statuses([await callWorker(quota, `/v1/videos/${fresh}/download`, { token: otherToken })]))[0]).toBe(202);
    expect((await statuses([await callWorker(quota, `/v1/videos/${ready}/download`, { token: otherToken })]))[0]).toBe(302);
    expect((await counters(fresh)).api).toBeGreaterThan(0);
    expect(await quotaUsed(other)).toBe(1);
    expect(await auditCount("user_id = ?1", other)).toBe(1);
  }, LIMITER_BURST_TIMEOUT_MS);
});

describe("per address (IP_RATE_LIMITER, 120 a minute)", () => {
  test("signed-in requests count against their address too: once it has made 120, a fresh user there is refused, and served elsewhere", async () => {
    const { uid } = await seedVideo(READY);
    const [crowded, quiet] = [randomIPv4(), randomIPv4()];
    // Three users, 40 requests each: none of them near their own 60.
    const tokens = await Promise.all([randomUser(), randomUser(), randomUser()].map((user) => appToken(user, { videos: [uid] })));

    await clearOfLimiterRollover();
    const spent = await burst(IP_LIMIT, (i) => gateway("/v1/share-links", { token: tokens[i % 3], headers: from(crowded) }));
    expect(spent.filter((s) => s !== 200)).toEqual([]);

    const newcomer = await appToken(randomUser(), { videos: [uid] });
    await expectRateLimited(await gateway(`/v1/videos/${uid}/download`, { token: newcomer, headers: from(crowded) }), "a fresh user at the crowded address");
    await expectRateLimited(await gateway("/v1/share-links", { token: tokens[0], headers: from(crowded) }), "one of the crowd");
    expect((await statuses([await gateway(`/v1/videos/${uid}/download`, { token: newcomer, headers: from(quiet) })]))[0]).toBe(302);
    expect((await statuses([await gateway("/v1/share-links", { token: tokens[0], headers: from(quiet) })]))[0]).toBe(200);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("past 120 requests from one address, every anonymous route refuses it and spends nothing; another address is served", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { delivery: "gateway", maxDownloads: 10 });
    const [busy, calm] = [randomIPv4(), randomIPv4()];
    // A grant of the link taken from elsewhere: its /d/ URL is not locked to an address.
    const ticket = ticketPath(await gateway(`/s/${link.secret}`, { method: "POST", headers: from(calm) }));
    const before = { stream: await counters(uid), uses: (await shareLinkRow(link.id)).uses, audit: await linkAuditCount(link.id) };
    expect(before.uses).toBe(1);

    await clearOfLimiterRollover();
    const spent = await burst(IP_LIMIT, () => gateway(BOGUS_TICKET, { headers: from(busy) }));
    expect(spent.filter((s) => s !== 404)).toEqual([]);

    const anonymous: [string, () => Promise<Response>][] = [
      ["GET /s/:id", () => gateway(`/s/${link.secret}`, { headers: from(busy) })],
      ["GET /s/:id (a browser)", () => gateway(`/s/${link.secret}`, { headers: { ...from(busy), accept: "text/html" } })],
      ["GET /s/:id/poster.jpg", () => gateway(`/s/${link.secret}/poster.jpg`, { headers: from(busy) })],
      ["POST /s/:id", () => gateway(`/s/${link.secret}`, { method: "POST", headers: from(busy) })],
      ["GET /s/ of an unknown link", () => gateway("/s/no-such-link", { headers: from(busy) })],
      ["GET /d/:ticket", () => gateway(ticket, { headers: from(busy) })],
      ["GET /d/:ticket with a Range", () => gateway(ticket, { headers: { ...from(busy), range: "bytes=0-99" } })],
      ["POST /d/:ticket", () => gateway(ticket, { method: "POST", headers: from(busy) })],
      // The same IPv4 client, written as an IPv4-mapped IPv6 address.
      ["GET /s/:id from ::ffff:<the address>", () => gateway(`/s/${link.secret}`, { headers: from(`::ffff:${busy}`) })],
    ];
    for (const [what, call] of anonymous) await expectRateLimited(await call(), what);

    // Nothing reached Stream, no use was taken, no audit row written.
    const after = await counters(uid);
    expect({ api: after.api, delivery: after.delivery }).toEqual({ api: before.stream.api, delivery: before.stream.delivery });
    expect((await shareLinkRow(link.id)).uses).toBe(before.uses);
    expect(await linkAuditCount(link.id)).toBe(before.audit);

    // Another address is served on the same routes.
    expect((await statuses([await gateway(`/s/${link.secret}`, { headers: from(calm) })]))[0]).toBe(200);
    const file = await gateway(ticket, { headers: from(calm) });
    expect(file.status).toBe(200);
    await file.arrayBuffer();
    expect((await counters(uid)).delivery).toBeGreaterThan(before.stream.delivery);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("a user past their own limit does not spend the address's: the others there are still served", async () => {
    const [greedy, neighbour] = await Promise.all([appToken(randomUser()), appToken(randomUser())]);
    const office = randomIPv4();

    await clearOfLimiterRollover();
    // 60 served, then 65 refused by the user's own limit: 125 requests, more than the address's 120.
    const sent = await burst(IP_LIMIT + 5, () => gateway("/v1/share-links", { token: greedy, headers: from(office) }));
    expect(sent.filter((s) => s === 200).length).toBe(USER_LIMIT);
    expect(sent.filter((s) => s === 429).length).toBe(IP_LIMIT - USER_LIMIT + 5);
    expect((await statuses([await gateway("/v1/share-links", { token: neighbour, headers: from(office) })]))[0]).toBe(200);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("an IPv6 client is its /64 however its addresses are written; the neighbouring /64 is another client", async () => {
    const prefix = randomPrefix64();
    const [a, b, c, d] = prefix.split(":");
    const padded = [a, b, c, d].map((g) => g!.padStart(4, "0")).join(":");
    // The same /64 in the text forms RFC 4291 allows: compressed, upper case, zero-padded and
    // uncompressed, with a dotted-quad tail.
    const forms = [
      (i: number) => `${prefix}::${(i + 1).toString(16)}`,
      (i: number) => `${prefix}::${(i + 1).toString(16)}`.toUpperCase(),
      (i: number) => `${padded}:0000:0000:0000:${(i + 1).toString(16).padStart(4, "0")}`,
      (i: number) => `${prefix}:1:2:192.0.2.${i % 250}`,
    ];

    await clearOfLimiterRollover();
    const spent = await burst(IP_LIMIT, (i) => gateway(BOGUS_TICKET, { headers: from(forms[i % forms.length]!(i)) }));
    expect(spent.filter((s) => s !== 404)).toEqual([]);

    await expectRateLimited(await gateway(BOGUS_TICKET, { headers: from(`${prefix}:ffff:ffff:ffff:ffff`) }), "another address of the /64");
    const neighbour = `2001:db8:${c}:${(Number.parseInt(d!, 16) ^ 1).toString(16)}::1`;
    expect((await statuses([await gateway(BOGUS_TICKET, { headers: from(neighbour) })]))[0]).toBe(404);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("a request without CF-Connecting-IP (never in production) skips the per-address limit", async () => {
    await clearOfLimiterRollover();
    const answered = await burst(IP_LIMIT + 5, () => gateway(BOGUS_TICKET));
    expect(answered.filter((s) => s !== 404)).toEqual([]);
  }, LIMITER_BURST_TIMEOUT_MS);
});

describe("share-link passwords (LINK_PASSWORD_LIMITER, 10 a minute per link and network)", () => {
  /** A POST of the link's form as a fetch client sends it. */
  const attempt = (secret: string, password: string, ip: string) =>
    gateway(`/s/${secret}?mode=redirect`, { method: "POST", headers: { ...from(ip), "content-type": "application/json" }, body: JSON.stringify({ password }) });

  test("right passwords count as well as wrong ones: the 11th attempt from a network is 429 even when right, and takes nothing; other networks get in", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { password: "open sesame", maxDownloads: 100 });
    const prefix = randomPrefix64();

    // Only the attempts in the window: the checks that wait for the audit queue come after the 11th.
    await clearOfLimiterRollover();
    const tried: number[] = [];
    for (let i = 0; i < PASSWORD_LIMIT; i++) {
      const right = i % 2 === 1;
      tried.push((await statuses([await attempt(link.secret, right ? "open sesame" : `guess ${i}`, `${prefix}::${i + 1}`)]))[0]!);
    }
    const before = await counters(uid);
    const eleventh = await attempt(link.secret, "open sesame", `${prefix}::abcd`);

    expect(tried).toEqual([403, 302, 403, 302, 403, 302, 403, 302, 403, 302]);
    await expectRateLimited(eleventh, "the right password, 11th attempt from the /64");
    const after = await counters(uid);
    expect({ api: after.api, delivery: after.delivery }).toEqual({ api: before.api, delivery: before.delivery });
    // The five right passwords from one network share one grant: one use, one audit row, and none for the 11th.
    expect((await shareLinkRow(link.id)).uses).toBe(1);
    expect(await linkAuditCount(link.id)).toBe(1);

    // The neighbouring /64, and an IPv4 address, are other networks.
    const [, , c, d] = prefix.split(":");
    const neighbour = `2001:db8:${c}:${(Number.parseInt(d!, 16) ^ 1).toString(16)}::1`;
    expect((await statuses([await attempt(link.secret, "open sesame", neighbour)]))[0]).toBe(302);
    expect((await statuses([await attempt(link.secret, "open sesame", randomIPv4())]))[0]).toBe(302);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("an IPv4 network is one address: after 10 attempts from it, the next address is not held back", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { password: "open sesame" });
    const base = `10.${byte()}.${byte()}`;
    const [one, next] = [`${base}.10`, `${base}.11`];
    await clearOfLimiterRollover();

    const tried = await burst(PASSWORD_LIMIT, (i) => attempt(link.secret, `guess ${i}`, one));
    expect(tried).toEqual(Array.from({ length: PASSWORD_LIMIT }, () => 403));
    await expectRateLimited(await attempt(link.secret, "open sesame", one), "the right password, 11th attempt from the address");
    expect((await statuses([await attempt(link.secret, "open sesame", next)]))[0]).toBe(302);
    expect((await shareLinkRow(link.id)).uses).toBe(1);
  }, LIMITER_BURST_TIMEOUT_MS);
});
