// The audit trail through the queue (src/record/audit-queue.ts, docs/design.md › Scale): a grant's
// event reaches D1 through AUDIT_QUEUE and the Worker's consumer; a batch written twice leaves one
// row per event; a batch D1 refuses is retried with backoff; a message that is not an event is
// dropped without holding the others back; a queue that refuses the event makes the request
// write it itself, and a D1 that refuses too makes the grant a 503 that takes nothing.
import { createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, test, vi } from "vitest";
import worker from "../../src/dev";
import type { AuditEvent } from "../../src/record/audit";
import type { QueueMessage } from "../../src/gateway/gateway";
import { retryDelaySeconds, writeAuditBatch } from "../../src/record/audit-queue";
import { auditCount, keptQueue, linkAuditCount, ADMIN_TOKEN, appToken, callWorker, createShareLink, drainAudit, envWith, expectProblem, gateway, quotaUsed, randomUid, randomUser, readyVideo, shareLinkRow } from "../helpers";

const event = (video: string, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  id: crypto.randomUUID(),
  at: Date.now(),
  user: "queue-tester",
  link: null,
  video,
  type: "default",
  mode: "redirect",
  country: null,
  network: null,
  outcome: "granted",
  ...overrides,
});

/** An audit event as the queue carries it; anything else as it is. */
const audited = (body: unknown) => (typeof body === "object" && body !== null && "outcome" in body ? { kind: "audit", event: body } : body);

/** Runs the Worker's consumer on these bodies (audit events wrapped as the queue carries them), as the queue would deliver them. */
async function consume(bodies: unknown[], testEnv: Env = env, attempts = 1) {
  const batch = createMessageBatch(
    "stream-download-audit",
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(Date.now() - 250), attempts, body: audited(body) })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  return getQueueResult(batch, ctx);
}

const rowsOf = (video: string) => env.DB.prepare("SELECT event_id FROM audit_events WHERE video_id = ?1").bind(video).all<{ event_id: string }>();

/** A D1 whose batches fail, as an outage would, before writing anything. */
const failingBatches = (db: D1Database) =>
  new Proxy(db, {
    get: (real, prop) => (prop === "batch" ? () => Promise.reject(new Error("D1_ERROR: outage")) : bound(real, prop)),
  });

const bound = (target: object, prop: string | symbol) => {
  const value: unknown = Reflect.get(target, prop, target);
  return typeof value === "function" ? value.bind(target) : value;
};

/** A queue that refuses every event. */
const refusingQueue = { send: () => Promise.reject(new Error("queue unavailable")), sendBatch: () => Promise.reject(new Error("queue unavailable")) } as unknown as Queue;

describe("the consumer", () => {
  test("a granted download's event reaches the trail through the queue, and the admin API says how fresh it is", async () => {
    const uid = await readyVideo();
    const user = randomUser();
    expect((await gateway(`/v1/videos/${uid}/download`, { token: await appToken(user, { videos: [uid] }) })).status).toBe(302);
    await drainAudit();
    const res = await gateway(`/v1/admin/audit?video=${uid}`, { token: ADMIN_TOKEN });
    const body = (await res.json()) as {
      events: Array<{ eventId: string; user: string }>;
      freshness: { lastWrittenAt: string; lastBatchWaitedMs: number; waiting: number; oldestWaitingSince: string | null };
    };
    expect(body.events).toEqual([expect.objectContaining({ user, eventId: expect.stringMatching(/^[0-9a-f-]{36}$/) })]);
    expect(Date.now() - Date.parse(body.freshness.lastWrittenAt)).toBeLessThan(30_000);
    // The batch's oldest event waited from its send to its write: some time, and less than the test took.
    expect(body.freshness.lastBatchWaitedMs).toBeGreaterThanOrEqual(0);
    expect(body.freshness.lastBatchWaitedMs).toBeLessThan(30_000);
    // Drained: nothing waits in the queue.
    expect(body.freshness).toMatchObject({ waiting: 0, oldestWaitingSince: null });
  });

  test("a batch delivered twice (at least once) leaves one row per event, and every message is acknowledged", async () => {
    const video = randomUid();
    const events = Array.from({ length: 5 }, () => event(video));
    const first = await consume(events);
    const extra = event(video);
    const again = await consume([...events, extra]);
    expect(first.explicitAcks).toHaveLength(5);
    expect(again.explicitAcks).toHaveLength(6);
    expect((await rowsOf(video)).results.map((r) => r.event_id).sort()).toEqual([...events, extra].map((e) => e.id).sort());
  });

  test("a batch D1 refuses writes nothing and is retried, each attempt waiting twice as long", async () => {
    const video = randomUid();
    // A batch of our own, to see the delay each message is retried with (getQueueResult leaves it out).
    const retried: Array<[string, QueueRetryOptions | undefined]> = [];
    const acked: string[] = [];
    const items = [event(video), event(video)].map((body, i) => ({ event: body, message: {
      id: `m${i}`,
      timestamp: new Date(),
      attempts: 3 + i,
      body,
      ack: () => acked.push(`m${i}`),
      retry: (options?: QueueRetryOptions) => retried.push([`m${i}`, options]),
    } as unknown as Message<unknown> }));
    await writeAuditBatch(failingBatches(env.DB), items, Date.now(), 10, () => [], async () => {});
    expect(acked).toEqual([]);
    expect(retried).toEqual([
      ["m0", { delaySeconds: 40 }],
      ["m1", { delaySeconds: 80 }],
    ]);
    expect((await rowsOf(video)).results).toEqual([]);
  });

  test("backoff doubles from the base and stops at an hour", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(n, 10))).toEqual([10, 20, 40, 80, 160, 320]);
    expect(retryDelaySeconds(20, 10)).toBe(3600);
    expect(retryDelaySeconds(3, 0)).toBe(0);
  });

  test("a message that is not an event is acknowledged and dropped; the events beside it are written", async () => {
    const video = randomUid();
    const good = event(video);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const linkId = "a-share-link-id-is-a-capability-000";
    try {
      const result = await consume(["not an event", { kind: "audit", event: { ...good, id: "", link: linkId } }, good]);
      expect(result.explicitAcks.sort()).toEqual(["m0", "m1", "m2"]);
      expect((await rowsOf(video)).results).toEqual([{ event_id: good.id }]);
      // The log names the message and its bad fields, never their values (a link id is a capability).
      const logged = errors.mock.calls.map((call) => call.join(" "));
      expect(logged).toHaveLength(2);
      expect(logged[1]).toMatch(/^queue: dropped a malformed message m1 from .* \(event\.id\)$/);
      expect(logged.join("\n")).not.toContain(linkId);
    } finally {
      errors.mockRestore();
    }
  });
});

describe("the request, when the queue refuses", () => {
  test("the event is written to D1 directly: the download is granted and its row is there at once", async () => {
    const uid = await readyVideo();
    const user = randomUser();
    const res = await callWorker({ ...env, AUDIT_QUEUE: refusingQueue } as Env, `/v1/videos/${uid}/download`, { token: await appToken(user, { videos: [uid] }) });
    expect(res.status).toBe(302);
    expect((await rowsOf(uid)).results).toHaveLength(1);
  });

  test("with D1 refusing the row too: a download is 503 and its quota unit given back; a link's use is kept with its event in the link's object", async () => {
    const uid = await readyVideo();
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    const link = await createShareLink(uid, token, { maxDownloads: 2 });
    const broken = { ...envWith({ DAILY_DOWNLOAD_QUOTA: "5" }), AUDIT_QUEUE: refusingQueue } as Env;
    // The direct write is the only INSERT INTO audit_events; everything else reaches D1.
    const noAuditInsert = new Proxy(env.DB, {
      get: (real, prop) =>
        prop === "prepare"
          ? (sql: string) => (/INSERT INTO audit_events/.test(sql) ? { bind: () => ({ run: () => Promise.reject(new Error("D1_ERROR: outage")) }) } : real.prepare(sql))
          : bound(real, prop),
    });
    const failing = { ...broken, DB: noAuditInsert } as Env;

    await expectProblem(await callWorker(failing, `/v1/videos/${uid}/download`, { token }), 503, "upstream-unavailable");
    expect(await quotaUsed(user)).toBe(0);
    // The link's object keeps the use and its audit event together (its outbox): the grant stands,
    // and the object's alarm sends the event the Worker could not.
    expect((await callWorker(failing, `/s/${link.secret}?mode=redirect`, { method: "POST" })).status).toBe(302);
    expect(await quotaUsed(user)).toBe(1);
    expect(await linkAuditCount(link.id)).toBe(0);
    expect(await runDurableObjectAlarm(env.SHARE_LINKS.get(env.SHARE_LINKS.idFromName(link.id)))).toBe(true);
    expect({ uses: (await shareLinkRow(link.id)).uses, audit: await linkAuditCount(link.id) }).toEqual({ uses: 1, audit: 1 });
  });
});

describe("several audit queues", () => {
  test("with AUDIT_QUEUE_2 … _4 bound, events spread over the four (each takes 5,000 a second), and every one is written once", async () => {
    const sent: QueueMessage[][] = [[], [], [], []];
    const queues = { AUDIT_QUEUE: keptQueue(sent[0]!), AUDIT_QUEUE_2: keptQueue(sent[1]!), AUDIT_QUEUE_3: keptQueue(sent[2]!), AUDIT_QUEUE_4: keptQueue(sent[3]!) };
    const sharded = { ...env, ...queues } as Env;
    const uid = await readyVideo();
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    for (let i = 0; i < 40; i++) expect((await callWorker(sharded, `/v1/videos/${uid}/download`, { token, headers: { "cf-connecting-ip": `198.18.0.${i}` } })).status).toBe(302);
    expect(sent.map((s) => s.length).reduce((a, b) => a + b, 0)).toBe(40);
    expect(sent.every((s) => s.length > 0)).toBe(true);
    // The kept queues pass each message on to the test's one audit queue, whose consumer writes it.
    expect(await auditCount("user_id = ?1", user)).toBe(40);
  });
});
