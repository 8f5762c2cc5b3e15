// Events for the app (EVENTS_URL, src/events/): what the gateway sends when downloads are
// granted and links are created, used up and revoked, or a video is blocked; each POST verified
// here by the Standard Webhooks spec's own library (npm `standardwebhooks`), not by our code.
// The requests run in-process with an env whose queue keeps a copy of every message it is given
// (and still sends it); the Worker's own consumer is then run on those messages, as the queue
// would run it, with the receiver answering as each test says.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, test } from "vitest";
import worker from "../../src/dev";
import { EVENT_ATTEMPTS } from "../../src/events/delivery";
import type { QueueMessage } from "../../src/gateway/gateway";
import { linkSecret, ADMIN_TOKEN, appToken, callWorker, envWith, expectProblem, keptQueue, randomUser, readyVideo } from "../helpers";

// Dev-only test secret (Standard Webhooks format: whsec_ and base64 of 32 bytes).
const SECRET = "whsec_dGVzdC1vbmx5LWV2ZW50cy1zZWNyZXQtMDEyMzQ1Njc4OQ==";
const EVENTS_URL = "https://app.example/hooks/downloads";

interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * What the receivers found wrong (a wrong URL, a signature `standardwebhooks` refuses). Inside the
 * receiver a failed check would only look like a refused delivery, which the gateway retries.
 */
const receiverProblems: string[] = [];
afterEach(() => {
  expect(receiverProblems.splice(0)).toEqual([]);
});

/** The app's receiver: verifies each POST with `standardwebhooks`, then answers as told. */
function receiver() {
  const received: Received[] = [];
  const state = { answer: 204 as number | "down" | "redirect" };
  const service = {
    async fetch(request: Request): Promise<Response> {
      const body = await request.text();
      let payload: Omit<Received, "id">;
      try {
        if (request.url !== EVENTS_URL) throw new Error(`posted to ${request.url}`);
        payload = new Webhook(SECRET).verify(body, Object.fromEntries(request.headers)) as Omit<Received, "id">;
      } catch (error) {
        receiverProblems.push(String(error));
        throw error;
      }
      received.push({ id: request.headers.get("webhook-id") ?? "", ...payload });
      if (state.answer === "down") throw new Error("connection refused");
      if (state.answer === "redirect") return new Response(null, { status: 307, headers: { location: "https://elsewhere.example/" } });
      return new Response(null, { status: state.answer });
    },
  };
  return { received, state, service: service as unknown as Fetcher };
}

/** A gateway with events on, its queue's messages kept in `sent`. */
function eventsGateway() {
  const app = receiver();
  const sent: QueueMessage[] = [];
  const queue = keptQueue(sent);
  const testEnv = { ...envWith({ EVENTS_URL, EVENTS_SECRET: SECRET, AUDIT_RETRY_SECONDS: "1" }), EVENTS_SERVICE: app.service, AUDIT_QUEUE: queue } as Env;

  /** Runs the consumer on what was sent (and on what that sends) until nothing new comes; `attempts` as the queue would count them. */
  async function pump(attempts = 1) {
    const results = [];
    for (let round = 0; round < 5 && sent.length > 0; round++) {
      const bodies = sent.splice(0);
      const batch = createMessageBatch(
        "stream-download-audit",
        bodies.map((body, i) => ({ id: `r${round}m${i}`, timestamp: new Date(), attempts, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, testEnv, ctx);
      results.push(await getQueueResult(batch, ctx));
    }
    return results;
  }
  const call = (path: string, init: Parameters<typeof callWorker>[2] = {}) => callWorker(testEnv, path, init);
  return { ...app, sent, pump, call, testEnv };
}

const ofType = (received: Received[], type: string) => received.filter((e) => e.type === type);

describe("events for the app", () => {
  test("a signed-in download: download.granted, signed the Standard Webhooks way, its id following from the audit event", async () => {
    const g = eventsGateway();
    const uid = await readyVideo();
    const user = randomUser();
    expect((await g.call(`/v1/videos/${uid}/download?type=default`, { token: await appToken(user, { videos: [uid] }), cf: { country: "GB" } })).status).toBe(302);
    await g.pump();
    const [granted] = ofType(g.received, "download.granted");
    expect(granted).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      type: "download.granted",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { video: uid, type: "default", mode: "redirect", user, link: null, country: "GB" },
    });
    const row = await env.DB.prepare("SELECT event_id FROM audit_events WHERE video_id = ?1").bind(uid).first<{ event_id: string }>();
    expect(granted!.id).toBe(`evt_${row!.event_id.replaceAll("-", "")}`);
  });

  test("a link's life: link.created, a download.granted per use, link.exhausted at the last, link.revoked by its creator", async () => {
    const g = eventsGateway();
    const uid = await readyVideo();
    const creator = randomUser();
    const token = await appToken(creator, { videos: [uid] });
    const created = await g.call(`/v1/videos/${uid}/share-links`, {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "default", expiresIn: 3600, maxDownloads: 2, password: "open sesame", delivery: "redirect" }),
    });
    expect(created.status).toBe(201);
    const { id, url } = (await created.json()) as { id: string; url: string };
    for (let i = 0; i < 2; i++) {
      expect((await g.call(`/s/${linkSecret({ url })}?mode=redirect`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"password":"open sesame"}' })).status).toBe(302);
    }
    expect((await g.call(`/v1/share-links/${id}`, { method: "DELETE", token })).status).toBe(204);
    await g.pump();
    expect(ofType(g.received, "link.created").map((e) => e.data)).toEqual([
      { link: id, video: uid, type: "default", creator, expiresAt: expect.any(String), maxDownloads: 2, password: true },
    ]);
    expect(ofType(g.received, "download.granted").map((e) => e.data.link)).toEqual([id, id]);
    expect(ofType(g.received, "link.exhausted").map((e) => e.data)).toEqual([{ link: id, video: uid, creator, uses: 2 }]);
    expect(ofType(g.received, "link.revoked").map((e) => e.data)).toEqual([{ link: id, video: uid, creator, by: "creator" }]);
    // The password itself is never in an event.
    expect(JSON.stringify(g.received)).not.toContain("open sesame");
  });

  test("the kill switch: video.blocked, and link.revoked for each of its live links", async () => {
    const g = eventsGateway();
    const uid = await readyVideo();
    const creator = randomUser();
    const token = await appToken(creator, { videos: [uid] });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await g.call(`/v1/videos/${uid}/share-links`, { method: "POST", token, headers: { "content-type": "application/json" }, body: '{"expiresIn":600}' });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const blocked = await g.call(`/v1/admin/videos/${uid}/block`, { method: "POST", token: ADMIN_TOKEN, headers: { "content-type": "application/json" }, body: '{"reason":"leaked"}' });
    expect(await blocked.json()).toMatchObject({ linksRevoked: 2 });
    await g.pump();
    expect(ofType(g.received, "video.blocked").map((e) => e.data)).toEqual([{ video: uid, reason: "leaked", linksRevoked: 2 }]);
    expect(ofType(g.received, "link.revoked").map((e) => e.data.link).sort()).toEqual(ids.sort());
    expect(ofType(g.received, "link.revoked").every((e) => e.data.by === "video-blocked")).toBe(true);
  });

  test("a link used from more networks than it allows: link.suspended, with what the window held", async () => {
    const g = eventsGateway();
    const uid = await readyVideo();
    const creator = randomUser();
    const token = await appToken(creator, { videos: [uid] });
    const res = await g.call(`/v1/videos/${uid}/share-links`, { method: "POST", token, headers: { "content-type": "application/json" }, body: '{"expiresIn":600,"maxNetworks":1,"delivery":"redirect"}' });
    const { id, url } = (await res.json()) as { id: string; url: string };
    // The second network is refused, and suspends the link: decided once, by the link's object.
    const use = (ip: string) => g.call(`/s/${linkSecret({ url })}?mode=redirect`, { method: "POST", headers: { "cf-connecting-ip": ip } });
    expect((await use("203.0.113.5")).status).toBe(302);
    await expectProblem(await use("198.51.100.7"), 410, "link-suspended");
    await expectProblem(await use("192.0.2.1"), 410, "link-suspended");
    await g.pump();
    expect(ofType(g.received, "link.suspended").map((e) => e.data)).toEqual([
      { link: id, video: uid, creator, networks: 2, countries: 1, maxNetworks: 1, maxCountries: null },
    ]);

    // Reinstated by its creator: link.reinstated.
    expect((await g.call(`/v1/share-links/${id}/reinstate`, { method: "POST", token })).status).toBe(200);
    await g.pump();
    expect(ofType(g.received, "link.reinstated").map((e) => e.data)).toEqual([{ link: id, video: uid, creator }]);
  });

  test("a receiver that fails is tried again with the same webhook-id; after the last attempt the event is kept, listed, and can be sent again", async () => {
    const g = eventsGateway();
    const uid = await readyVideo();
    const user = randomUser();
    g.state.answer = 500;
    expect((await g.call(`/v1/videos/${uid}/download`, { token: await appToken(user, { videos: [uid] }) })).status).toBe(302);
    // The audit event is written and becomes download.granted, which the receiver refuses.
    const [written] = await g.pump(1);
    expect(written!.explicitAcks).toHaveLength(1);
    const [first] = g.received;
    const attempt = async (n: number, answer: number | "down" | "redirect") => {
      g.state.answer = answer;
      g.sent.push({ kind: "event", event: { id: first!.id, type: "download.granted", at: Date.now(), data: first!.data as Record<string, string | null> } });
      return (await g.pump(n))[0]!;
    };
    // A refusal, an unreachable receiver and a redirect are all failures, retried with backoff.
    for (const [n, answer] of [[2, "down"], [3, "redirect"]] as const) {
      const result = await attempt(n, answer);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual(["r0m0"]);
      expect(result.explicitAcks).toEqual([]);
    }
    // The last attempt: recorded and acknowledged, not left to the dead-letter queue.
    const last = await attempt(EVENT_ATTEMPTS, 503);
    expect({ acks: last.explicitAcks, retries: last.retryMessages }).toEqual({ acks: ["r0m0"], retries: [] });
    expect(new Set(g.received.map((e) => e.id))).toEqual(new Set([first!.id]));

    const listed = await g.call("/v1/admin/events/failed", { token: ADMIN_TOKEN });
    const { failures } = (await listed.json()) as { failures: Array<{ event: { id: string; type: string }; attempts: number; lastError: string }> };
    expect(failures.find((f) => f.event.id === first!.id)).toMatchObject({ event: { type: "download.granted" }, attempts: EVENT_ATTEMPTS, lastError: "EVENTS_URL answered 503" });

    // The receiver is fixed: redelivery queues the failures again and removes them from the list.
    g.state.answer = 200;
    const redelivered = await g.call("/v1/admin/events/failed/redeliver", { method: "POST", token: ADMIN_TOKEN });
    expect(((await redelivered.json()) as { queued: number }).queued).toBeGreaterThanOrEqual(1);
    await g.pump();
    expect(g.received.at(-1)?.id).toBe(first!.id);
    const after = (await (await g.call("/v1/admin/events/failed", { token: ADMIN_TOKEN })).json()) as { failures: Array<{ event: { id: string } }> };
    expect(after.failures.some((f) => f.event.id === first!.id)).toBe(false);
  });
});

describe("events off, and their settings", () => {
  test("without EVENTS_URL nothing but audit events is queued, and redelivery says events are off", async () => {
    const uid = await readyVideo();
    const sent: QueueMessage[] = [];
    const off = { ...env, AUDIT_QUEUE: keptQueue(sent) } as Env;
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await callWorker(off, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
    expect((await callWorker(off, `/v1/videos/${uid}/share-links`, { method: "POST", token, headers: { "content-type": "application/json" }, body: '{"expiresIn":600}' })).status).toBe(201);
    expect(sent).toEqual([{ kind: "audit", event: expect.objectContaining({ video: uid }) }]);
    await expectProblem(await callWorker(off, "/v1/admin/events/failed/redeliver", { method: "POST", token: ADMIN_TOKEN }), 400, "invalid-request");
  });

  test.each([
    [{ EVENTS_SECRET: SECRET }, "EVENTS_URL"],
    [{ EVENTS_URL }, "EVENTS_SECRET"],
    [{ EVENTS_URL, EVENTS_SECRET: "not-a-secret!" }, "EVENTS_SECRET"],
    [{ EVENTS_URL, EVENTS_SECRET: "whsec_c2hvcnQ=" }, "EVENTS_SECRET"],
    [{ EVENTS_URL: "http://app.example/hooks", EVENTS_SECRET: SECRET }, "EVENTS_URL"],
  ])("%o is refused as misconfigured, naming %s", async (settings, setting) => {
    const uid = await readyVideo();
    const problem = await expectProblem(await callWorker(envWith(settings), `/v1/videos/${uid}/download`, { token: await appToken(randomUser(), { videos: [uid] }) }), 500, "misconfigured");
    expect(problem.setting).toBe(setting);
  });
});
