// The invariant behind every control (the controls issue): a download is one grant of the file to
// one requester, and every grant takes exactly one use (share links), one unit of the daily quota
// and writes one audit row. Property-based: fast-check generates Range headers over the whole
// grammar and mixed, concurrent sequences of GET/HEAD/POST (with and without Range, against a user's
// quota and a k-use share link, and at the grants' own URLs), with Stream and D1 failing or not,
// and after each sequence the counts the client saw must equal what D1 recorded.
import { env } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { DELIVERY_BASE, injectFault, removeFaults, seedVideo } from "../emulator/helpers";
import { linkByIdOrSecret, GATEWAY, appToken, auditCount, callWorker, drainAudit, envWith, quotaUsed, randomUser } from "../helpers";

afterEach(removeFaults);

const READY = { name: "Invariant", downloads: { default: "ready", audio: "ready" } };

/** Range headers from the whole grammar, valid or not: units in any case, whitespace, several and open and suffix ranges, leading zeros, huge numbers. */
const number = fc.oneof(
  fc.nat({ max: 5000 }).map(String),
  fc.nat({ max: 99 }).map((n) => `000${n}`),
  fc.constantFrom("0", "1", "9007199254740993", "99999999999999999999999", "-1", "1e3", " 7 "),
);
const rangeSpec = fc.oneof(
  fc.tuple(number, number).map(([a, b]) => `${a}-${b}`),
  number.map((a) => `${a}-`),
  number.map((b) => `-${b}`),
  fc.constantFrom("-", "", "a-b", "0-0"),
);
const rangeHeader = fc
  .tuple(
    fc.constantFrom("bytes", "BYTES", "Bytes", "bYtEs", "items", "", "bytes "),
    fc.constantFrom("=", " = ", "=", ":"),
    fc.array(rangeSpec, { minLength: 1, maxLength: 3 }),
    fc.constantFrom(",", ", ", " ,"),
    fc.constantFrom("", " ", "\t"),
  )
  .map(([unit, eq, specs, sep, pad]) => `${pad}${unit}${eq}${specs.join(sep)}${pad}`);

type Kind = "get-redirect" | "get-stream" | "head-redirect" | "head-stream" | "download-url" | "link-redirect" | "link-stream" | "ticket";
const command = fc.record({
  kind: fc.constantFrom<Kind>("get-redirect", "get-stream", "head-redirect", "head-stream", "download-url", "link-redirect", "link-stream", "ticket", "ticket"),
  range: fc.option(rangeHeader, { nil: undefined }),
  method: fc.constantFrom("GET", "HEAD", "POST"),
});
/** Commands in rounds; the commands of a round are sent at once. */
const rounds = fc.array(fc.array(command, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 });

/** A D1 that fails some calls before running them (nothing written), as an outage would. */
const REAL = Symbol("real statement");
function faultyD1(db: D1Database, fails: () => boolean): D1Database {
  const failing = <T>(run: () => Promise<T>): Promise<T> => (fails() ? Promise.reject(new Error("D1_ERROR: injected fault")) : run());
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement =>
    ({
      [REAL]: statement,
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      first: (column?: string) => failing(() => (column === undefined ? statement.first() : statement.first(column))),
      run: () => failing(() => statement.run()),
      all: () => failing(() => statement.all()),
      raw: () => failing(() => statement.raw()),
    }) as unknown as D1PreparedStatement;
  const unwrap = (statement: D1PreparedStatement) => (statement as unknown as Record<symbol, D1PreparedStatement>)[REAL] ?? statement;
  const api = {
    prepare: (query: string) => wrap(db.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => failing(() => db.batch(statements.map(unwrap))),
    withSession: () => ({ prepare: api.prepare, batch: api.batch, getBookmark: () => null }),
  };
  return api as unknown as D1Database;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function count(sql: string, ...values: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql).bind(...values).first<{ n: number }>())?.n ?? 0;
}

interface Outcome {
  userGrants: number;
  linkGrants: number;
  statuses: number[];
}

/** Whether a response hands something over that leads to the file, and checks its shape. */
async function grantOf(res: Response, kind: Kind): Promise<{ granted: boolean; ticket: string | null }> {
  const location = res.headers.get("location");
  if (kind.startsWith("head")) {
    expect(location).toBeNull();
    return { granted: false, ticket: null };
  }
  if (res.status === 302) {
    expect(new URL(location ?? "").origin).toBe(DELIVERY_BASE);
    return { granted: true, ticket: null };
  }
  if (res.status === 303) {
    const target = new URL(location ?? "", GATEWAY);
    expect(target.pathname).toMatch(/^\/d\//);
    return { granted: true, ticket: target.pathname };
  }
  if (kind === "download-url" && res.status === 200) {
    const body = (await res.clone().json()) as { url: string };
    expect(new URL(body.url).origin).toBe(DELIVERY_BASE);
    return { granted: true, ticket: null };
  }
  expect(location).toBeNull();
  return { granted: false, ticket: null };
}

/**
 * Makes a ready video, a user entitled to it and a k-use link of theirs (through `setupEnv`), then
 * sends the plan's rounds through `testEnv` and counts the grants the client received.
 */
async function play(setupEnv: Env, testEnv: Env, plan: { kind: Kind; range?: string; method: string }[][], k: number): Promise<Outcome & { user: string; link: string }> {
  const { uid } = await seedVideo(READY);
  const user = randomUser();
  const token = await appToken(user, { videos: [uid] });
  let link = "";
  for (let attempt = 0; link === "" && attempt < 3; attempt++) {
    const created = await callWorker(setupEnv, `/v1/videos/${uid}/share-links`, {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "default", expiresIn: 3600, maxDownloads: k }),
    });
    if (created.status === 201) link = ((await created.json()) as { id: string }).id;
    else await created.arrayBuffer();
  }
  expect(link).not.toBe("");

  const tickets: string[] = [];
  const outcome: Outcome = { userGrants: 0, linkGrants: 0, statuses: [] };
  const send = async ({ kind, range, method }: { kind: Kind; range?: string; method: string }): Promise<void> => {
    const headers: Record<string, string> = range === undefined ? {} : { range };
    let res: Response;
    switch (kind) {
      case "get-redirect":
      case "get-stream":
        res = await callWorker(testEnv, `/v1/videos/${uid}/download?mode=${kind.slice(4)}`, { token, headers });
        break;
      case "head-redirect":
      case "head-stream":
        res = await callWorker(testEnv, `/v1/videos/${uid}/download?mode=${kind.slice(5)}`, { method: "HEAD", token, headers });
        break;
      case "download-url":
        res = await callWorker(testEnv, `/v1/videos/${uid}/download-url`, { method: "POST", token, headers });
        break;
      case "link-redirect":
      case "link-stream":
        res = await callWorker(testEnv, `/s/${link}?mode=${kind.slice(5)}`, { method: "POST", headers });
        break;
      case "ticket": {
        const path = tickets[tickets.length - 1];
        if (path === undefined) return;
        res = await callWorker(testEnv, path, { method, headers });
        // The grant's own URL: the file, a range of it, or a refusal of the range; never a grant.
        expect([200, 206, 416, 503]).toContain(res.status);
        outcome.statuses.push(res.status);
        await res.arrayBuffer();
        return;
      }
    }
    outcome.statuses.push(res.status);
    const { granted, ticket } = await grantOf(res, kind);
    if (ticket) tickets.push(ticket);
    if (granted) {
      if (kind.startsWith("link")) outcome.linkGrants++;
      else outcome.userGrants++;
    }
    await res.arrayBuffer();
  };
  for (const round of plan) await Promise.all(round.map(send));
  return { ...outcome, user, link };
}

async function expectInvariant(o: Outcome & { user: string; link: string }, quota: number, k: number): Promise<void> {
  const uses = await count("SELECT uses AS n FROM share_links WHERE public_id = ?1 OR secret = ?1", o.link);
  await drainAudit();
  const linkAudit = await count(`SELECT count(*) AS n FROM audit_events WHERE link_id = ${linkByIdOrSecret("?1")}`, o.link);
  const userAudit = await count("SELECT count(*) AS n FROM audit_events WHERE user_id = ?1", o.user);
  expect({ uses, linkAudit, userAudit, quotaUsed: await quotaUsed(o.user), statuses500: o.statuses.filter((s) => s === 500) }).toEqual({
    uses: o.linkGrants,
    linkAudit: o.linkGrants,
    userAudit: o.userGrants,
    quotaUsed: o.userGrants + o.linkGrants,
    statuses500: [],
  });
  expect(o.linkGrants).toBeLessThanOrEqual(k);
  expect(o.userGrants + o.linkGrants).toBeLessThanOrEqual(quota);
}

describe("grants = uses = quota = audit rows", () => {
  test("under mixed concurrent GET/HEAD/POST sequences with any Range, per link and per user", async () => {
    await fc.assert(
      fc.asyncProperty(rounds, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), async (plan, quota, k) => {
        const testEnv = envWith({ DAILY_DOWNLOAD_QUOTA: String(quota) });
        await expectInvariant(await play(testEnv, testEnv, plan, k), quota, k);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  test("with D1 failing some calls and Stream's API and delivery host failing: no 500, and the invariant still holds", async () => {
    await fc.assert(
      fc.asyncProperty(rounds, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer(), async (plan, quota, k, seed) => {
        // Stream misbehaving meanwhile: the delivery host answers 500 or 429, the API 502 now and then.
        await injectFault({ operation: "delivery", status: 500, times: 2 });
        await injectFault({ operation: "delivery", status: 429, retryAfter: 1, times: 1 });
        await injectFault({ operation: "downloads.get", status: 502, times: 1 });
        const random = seeded(seed);
        const healthy = envWith({ DAILY_DOWNLOAD_QUOTA: String(quota) });
        const failing = { ...healthy, DB: faultyD1(env.DB, () => random() < 0.15) } as Env;
        const outcome = await play(healthy, failing, plan, k);
        await expectInvariant(outcome, quota, k);
      }),
      { numRuns: 15 },
    );
  }, 180_000);

  test("Range headers of every shape at the grant's own URL are 200, 206 or 416, never a 5xx, and take nothing", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const testEnv = envWith({ DAILY_DOWNLOAD_QUOTA: "5" });
    const granted = await callWorker(testEnv, `/v1/videos/${uid}/download?mode=stream`, { token: await appToken(user, { videos: [uid] }) });
    expect(granted.status).toBe(303);
    const path = new URL(granted.headers.get("location") ?? "", GATEWAY).pathname;
    await fc.assert(
      fc.asyncProperty(rangeHeader, fc.option(fc.constantFrom('"wrong-etag"', "Wed, 21 Oct 2015 07:28:00 GMT"), { nil: undefined }), async (range, ifRange) => {
        const headers: Record<string, string> = { range };
        if (ifRange !== undefined) headers["if-range"] = ifRange;
        const res = await callWorker(testEnv, path, { headers });
        expect([200, 206, 416]).toContain(res.status);
        await res.arrayBuffer();
      }),
      { numRuns: 60 },
    );
    expect(await auditCount("user_id = ?1", user)).toBe(1);
    expect(await quotaUsed(user)).toBe(1);
  }, 60_000);
});
