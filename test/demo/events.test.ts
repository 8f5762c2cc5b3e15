// The demo's receiver of the gateway's events (src/demo/events.ts, docs/client.md › Demo): it
// reads no more than 64 KB of a POST before checking the signature, and shows each signed-in
// user only the events about them.
import { Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import { appToken, callWorker, clearOfLimiterRollover, envWith, expectProblem, LIMITER_BURST_TIMEOUT_MS, randomUser } from "../helpers";

const SECRET = `whsec_${btoa("demo-events-test-secret-32-bytes!")}`;
const demoEnv = () => envWith({ DEMO_ENABLED: "true", EVENTS_URL: "https://app.test/hooks", EVENTS_SECRET: SECRET });

interface Shown {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** One event as the gateway sends it: JSON, signed the Standard Webhooks way. */
function signed(type: string, data: Record<string, unknown>, pad = 0): { id: string; body: string; headers: Record<string, string> } {
  const id = `evt_${crypto.randomUUID()}`;
  const at = new Date();
  const body = JSON.stringify({ type, timestamp: at.toISOString(), data: pad > 0 ? { ...data, pad: "x".repeat(pad) } : data });
  return {
    id,
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(SECRET).sign(id, at, body),
    },
  };
}

async function deliver(type: string, data: Record<string, unknown>): Promise<string> {
  const event = signed(type, data);
  const res = await callWorker(demoEnv(), "/demo/events", { method: "POST", headers: event.headers, body: event.body });
  expect(res.status).toBe(204);
  return event.id;
}

async function shownTo(user: string): Promise<Shown[]> {
  const res = await callWorker(demoEnv(), "/demo/events", { token: await appToken(user) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: Shown[] }).events;
}

const VIDEO = "c0ffee00000000000000000000000001";
const randomLink = () => crypto.randomUUID().replaceAll("-", "");

describe("GET /demo/events", () => {
  test("each user sees their own downloads, their links' events and downloads through their links, newest first; nobody sees operator events", async () => {
    const [alice, bob, link] = [randomUser(), randomUser(), randomLink()];
    const own = await deliver("download.granted", { video: VIDEO, type: "default", mode: "redirect", user: alice, link: null, country: "US" });
    const created = await deliver("link.created", { link, video: VIDEO, type: "default", creator: alice, expiresAt: "2030-01-01T00:00:00Z", maxDownloads: 3, password: false });
    const through = await deliver("download.granted", { video: VIDEO, type: "default", mode: "stream", user: null, link, country: "US" });
    const bobs = await deliver("download.granted", { video: VIDEO, type: "audio", mode: "redirect", user: bob, link: null, country: "US" });
    const blocked = await deliver("video.blocked", { video: VIDEO, reason: "test", linksRevoked: 0 });

    expect((await shownTo(alice)).map((e) => e.id)).toEqual([through, created, own]);
    const seenByBob = await shownTo(bob);
    expect(seenByBob.map((e) => e.id)).toEqual([bobs]);
    expect(JSON.stringify(seenByBob)).not.toContain(link);
    expect((await shownTo(randomUser())).map((e) => e.id)).not.toContain(blocked);
  });

  test("a download through a link that arrives before the link's link.created reaches the creator once that event is in", async () => {
    const [carol, link] = [randomUser(), randomLink()];
    const early = await deliver("download.granted", { video: VIDEO, type: "default", mode: "stream", user: null, link, country: "US" });
    expect(await shownTo(carol)).toEqual([]);
    const created = await deliver("link.created", { link, video: VIDEO, type: "default", creator: carol, expiresAt: "2030-01-01T00:00:00Z", maxDownloads: null, password: false });
    expect((await shownTo(carol)).map((e) => e.id)).toEqual([created, early]);
  });

  test(
    "reading the feed spends none of the user's allowance (USER_RATE_LIMITER, 60 a minute): the page refreshes it after each click",
    async () => {
      const user = randomUser();
      const token = await appToken(user);
      await clearOfLimiterRollover();
      // One burst, so that counted reads would all fall in the window the last request is in.
      const reads = await Promise.all(Array.from({ length: 61 }, () => callWorker(demoEnv(), "/demo/events", { token })));
      expect(reads.map((res) => res.status)).toEqual(reads.map(() => 200));
      expect((await callWorker(demoEnv(), "/v1/share-links", { token })).status).toBe(200);
    },
    LIMITER_BURST_TIMEOUT_MS,
  );

  test("without an app token in the Authorization header: 401, whatever cookie comes with it", async () => {
    await expectProblem(await callWorker(demoEnv(), "/demo/events"), 401, "unauthenticated");
    const cookie = `sdg_session=${await appToken(randomUser())}`;
    await expectProblem(await callWorker(demoEnv(), "/demo/events", { headers: { cookie } }), 401, "unauthenticated");
  });
});

describe("POST /demo/events", () => {
  test("a body past 64 KB is refused with 413 before its signature is checked, and nothing is kept, whether declared or streamed", async () => {
    const user = randomUser();
    const large = signed("download.granted", { video: VIDEO, type: "default", mode: "redirect", user, link: null, country: "US" }, 70 * 1024);
    const declared = await callWorker(demoEnv(), "/demo/events", { method: "POST", headers: large.headers, body: large.body });
    expect((await expectProblem(declared, 413, "payload-too-large")).maxBytes).toBe(64 * 1024);

    const bytes = new TextEncoder().encode(large.body);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.slice(at, at + 8192));
        controller.close();
      },
    });
    const streamed = await callWorker(demoEnv(), "/demo/events", { method: "POST", headers: large.headers, body: chunked, duplex: "half" } as RequestInit);
    await expectProblem(streamed, 413, "payload-too-large");
    expect(await shownTo(user)).toEqual([]);
  });

  test("a signature that does not verify is refused with 401 and nothing is kept", async () => {
    const user = randomUser();
    const event = signed("download.granted", { video: VIDEO, type: "default", mode: "redirect", user, link: null, country: "US" });
    const res = await callWorker(demoEnv(), "/demo/events", { method: "POST", headers: { ...event.headers, "webhook-signature": "v1,AAAA" }, body: event.body });
    expect(res.status).toBe(401);
    expect(await shownTo(user)).toEqual([]);
  });
});
