// GET /v1/admin/audit (docs/http-api.md): newest first by (at, id), opaque cursor, filters, admin only.
// Rows are written with the same statement the download path uses; every test uses its own video
// UIDs and users, because storage is shared by the tests of this file.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { auditStatement, type AuditEvent } from "../../src/record/audit";
import { admin, appToken, expectProblem, gateway, randomUid } from "../helpers";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");

interface ApiEvent {
  id: number;
  at: string;
  user: string | null;
  link: string | null;
  video: string;
  type: string;
  mode: string;
  country: string | null;
  outcome: string;
}
interface Page {
  events: ApiEvent[];
  nextCursor: string | null;
}

function event(overrides: Partial<AuditEvent> & { video: string }): AuditEvent {
  return { id: crypto.randomUUID(), at: T0, user: "alice", link: null, type: "default", mode: "redirect", country: "GB", network: null, outcome: "granted", ...overrides };
}

async function insert(events: AuditEvent[]): Promise<void> {
  await env.DB.batch(events.map((e) => auditStatement(env.DB, e)));
}

async function page(query: string): Promise<Page> {
  const res = await admin("GET", `/v1/admin/audit?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

/** Follows nextCursor to the end. */
async function all(query: string, limit: number): Promise<{ events: ApiEvent[]; pages: number }> {
  const events: ApiEvent[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const p: Page = await page(`${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(p.events.length).toBeLessThanOrEqual(limit);
    events.push(...p.events);
    cursor = p.nextCursor;
    pages++;
  } while (cursor !== null);
  return { events, pages };
}

describe("paging", () => {
  test("every row once, newest first by (at, id), across pages that split same-millisecond rows", async () => {
    const video = randomUid();
    // 25 rows on 10 distinct times: several rows share a millisecond, so pages of 4 cut ties.
    await insert(Array.from({ length: 25 }, (_, i) => event({ video, at: T0 + (i % 10) * 1000, user: `user-${i}` })));

    const { events, pages } = await all(`video=${video}`, 4);
    expect(pages).toBe(7);
    expect(events).toHaveLength(25);
    expect(new Set(events.map((e) => e.id)).size).toBe(25);
    const keys = events.map((e) => [Date.parse(e.at), e.id] as const);
    const sorted = [...keys].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    expect(keys).toEqual(sorted);
  });

  test("events carry every field, with `at` as ISO 8601", async () => {
    const video = randomUid();
    const [bob, link] = [event({ video, at: T0, user: "bob", type: "audio", mode: "stream", country: null }), event({ video, at: T0 + 1, user: null, link: "link-abc", country: "FR" })];
    await insert([bob, link]);
    const p = await page(`video=${video}`);
    expect(p).toEqual({
      events: [
        { id: expect.any(Number), eventId: link.id, at: "2026-03-01T12:00:00.001Z", user: null, link: "link-abc", video, type: "default", mode: "redirect", country: "FR", network: null, outcome: "granted" },
        { id: expect.any(Number), eventId: bob.id, at: "2026-03-01T12:00:00.000Z", user: "bob", link: null, video, type: "audio", mode: "stream", country: null, network: null, outcome: "granted" },
      ],
      nextCursor: null,
      freshness: expect.any(Object),
    });
  });

  test("limit defaults to 100 and may be at most 1000", async () => {
    const video = randomUid();
    await insert(Array.from({ length: 101 }, (_, i) => event({ video, at: T0 + i })));
    const first = await page(`video=${video}`);
    expect(first.events).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await page(`video=${video}&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(rest).toMatchObject({ events: [{ at: new Date(T0).toISOString() }], nextCursor: null });
    expect((await page(`video=${video}&limit=1000`)).events).toHaveLength(101);
  });

  test("a page that ends exactly at the last row has no nextCursor", async () => {
    const video = randomUid();
    await insert(Array.from({ length: 3 }, (_, i) => event({ video, at: T0 + i })));
    expect((await page(`video=${video}&limit=3`)).nextCursor).toBeNull();
  });
});

describe("filters", () => {
  test("video, user, link and since narrow the trail and combine", async () => {
    const [v1, v2] = [randomUid(), randomUid()];
    const [carol, dave] = [`carol-${randomUid()}`, `dave-${randomUid()}`];
    const link = `link-${randomUid()}`;
    await insert([
      event({ video: v1, user: carol, at: T0 }),
      event({ video: v1, user: dave, at: T0 + 1000 }),
      event({ video: v2, user: carol, at: T0 + 2000 }),
      event({ video: v2, user: null, link, at: T0 + 3000 }),
    ]);
    const ats = async (query: string) => (await page(query)).events.map((e) => e.at);
    const iso = (offset: number) => new Date(T0 + offset).toISOString();

    expect(await ats(`video=${v1}`)).toEqual([iso(1000), iso(0)]);
    expect(await ats(`user=${carol}`)).toEqual([iso(2000), iso(0)]);
    expect(await ats(`link=${link}`)).toEqual([iso(3000)]);
    expect(await ats(`user=${carol}&video=${v2}`)).toEqual([iso(2000)]);
    // since is inclusive, and takes an offset or a plain date.
    expect(await ats(`user=${carol}&since=${encodeURIComponent(iso(2000))}`)).toEqual([iso(2000)]);
    expect(await ats(`video=${v2}&since=${encodeURIComponent("2026-03-01T13:00:02+01:00")}`)).toEqual([iso(3000), iso(2000)]);
    expect(await ats(`user=${carol}&since=2026-03-02`)).toEqual([]);
    expect(await ats(`user=${carol}&since=2026-03-01`)).toEqual([iso(2000), iso(0)]);
  });

  test("filters and cursor page together", async () => {
    const video = randomUid();
    const erin = `erin-${randomUid()}`;
    await insert(Array.from({ length: 9 }, (_, i) => event({ video, user: i % 3 === 0 ? erin : "someone-else", at: T0 + i })));
    const { events } = await all(`video=${video}&user=${erin}`, 2);
    expect(events.map((e) => e.at)).toEqual([6, 3, 0].map((i) => new Date(T0 + i).toISOString()));
  });
});

describe("refusals", () => {
  test.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=ten", "limit"],
    ["video=not-a-uid", "video"],
    ["since=yesterday", "since"],
    ["since=2026-03-01T12:00:00", "since"],
    ["cursor=not-a-cursor", "cursor"],
    [`cursor=${btoa(JSON.stringify(["x", 1]))}`, "cursor"],
    [`cursor=${btoa(JSON.stringify({ at: 1, id: 1 }))}`, "cursor"],
  ])("%s: 400 invalid-request naming %s", async (query, field) => {
    const problem = await expectProblem(await admin("GET", `/v1/admin/audit?${query}`), 400, "invalid-request");
    expect(problem.field).toBe(field);
  });

  test("without the admin token: 401, for an app user's token too", async () => {
    const missing = await expectProblem(await gateway("/v1/admin/audit"), 401, "unauthenticated");
    expect(missing.detail).toBe("admin token required");
    await expectProblem(await gateway("/v1/admin/audit", { token: "wrong-admin-token" }), 401, "unauthenticated");
    await expectProblem(await gateway("/v1/admin/audit", { token: await appToken("alice", { videos: "*" }) }), 401, "unauthenticated");
  });
});
