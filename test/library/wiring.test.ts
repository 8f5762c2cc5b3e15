// How the gateway is wired into a Worker (src/config/wiring.ts, library.ts › worker): only its own crons
// and queues are its own, and a Worker that does not consume its audit queue is noticed.
import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { afterEach, describe, expect, test, vi } from "vitest";
import { DEFAULT_CRONS, DEFAULT_QUEUES, optionsFromEnv, streamDownloads, type QueueMessage } from "../../src/library";
import { auditFreshness, markSent, progressStatement } from "../../src/record/audit";
import { ADMIN_TOKEN, callHost, envWith, expectProblem, readyVideo } from "../helpers";
import { referenceWorker } from "../../src/worker";

afterEach(() => {
  vi.restoreAllMocks();
});

function hostWith(testEnv: Env = env) {
  const downloads = streamDownloads((e: Env) => ({
    ...optionsFromEnv(e),
    identify: (c) => {
      const id = c.req.header("x-session");
      return id ? { id } : null;
    },
    entitle: () => true,
  }));
  const app = new Hono<{ Bindings: Env }>();
  app.get("/", (c) => c.text("the host"));
  app.route("/downloads", downloads);
  return { downloads, app, env: testEnv };
}

const DAY = 86_400_000;

/** An audit row old enough for retention to delete. */
async function oldAuditRow(): Promise<string> {
  const id = `old-${crypto.randomUUID()}`;
  await env.DB.prepare(
    "INSERT INTO audit_events (event_id, at, user_id, link_id, video_id, type, mode, country, network, outcome) VALUES (?1, ?2, 'u', NULL, 'v', 'default', 'redirect', NULL, NULL, 'granted')",
  )
    .bind(id, Date.now() - 400 * DAY)
    .run();
  return id;
}

/** As if events had been sent two minutes ago and no batch written since; the time it was seeded. */
async function seedMissingConsumer(): Promise<number> {
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO audit_sent (id, sent_at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at").bind(now - 120_000),
    env.DB.prepare("INSERT INTO audit_progress (id, written_at, waited_ms) VALUES (1, ?1, 0) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at").bind(now - 600_000),
  ]);
  return now;
}

const auditRowExists = async (id: string) => (await env.DB.prepare("SELECT 1 AS x FROM audit_events WHERE event_id = ?1").bind(id).first()) !== null;


/** A queue message with one audit event, as a download sends it. */
const auditMessage = (id: string): QueueMessage => ({
  kind: "audit",
  event: { id, at: Date.now(), user: "u", link: null, video: "v", type: "default", mode: "redirect", country: null, network: null, outcome: "granted" },
});

describe("downloads.worker(app, own)", () => {
  test("its fetch is the host's app; the gateway acts on its own crons only, and every cron reaches the host's own handler", async () => {
    const { downloads, app } = hostWith();
    const ownCrons: string[] = [];
    const worker = downloads.worker(app, { scheduled: (controller) => void ownCrons.push(controller.cron) });
    const ctx = createExecutionContext();
    expect(await (await worker.fetch(new Request("https://shop.example/"), env, ctx)).text()).toBe("the host");

    const row = await oldAuditRow();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "0 * * * *" }), env, ctx);
    expect(ownCrons).toEqual(["0 * * * *"]);
    expect(await auditRowExists(row)).toBe(true);

    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: DEFAULT_CRONS.retention }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(ownCrons).toEqual(["0 * * * *", DEFAULT_CRONS.retention]);
    expect(await auditRowExists(row)).toBe(false);
  });

  test("the host's own queue's batch goes to its own handler, untouched by the gateway; without one it is refused (retried)", async () => {
    const { downloads, app } = hostWith();
    const seen: string[] = [];
    const worker = downloads.worker(app, { queue: (batch) => void seen.push(batch.queue) });
    const hostBatch = createMessageBatch("orders", [{ id: "m1", timestamp: new Date(), attempts: 1, body: { order: 1 } }]);
    const ctx = createExecutionContext();
    await worker.queue(hostBatch, env, ctx);
    expect(seen).toEqual(["orders"]);
    expect(await getQueueResult(hostBatch, ctx)).toMatchObject({ explicitAcks: [], retryMessages: [] });

    const bare = downloads.worker(app);
    await expect(bare.queue(createMessageBatch("orders", [{ id: "m2", timestamp: new Date(), attempts: 1, body: {} }]), env, createExecutionContext())).rejects.toThrow(
      /neither a queue the gateway consumes/,
    );
  });

  test("the gateway's own queue's batch is consumed: its audit event is written", async () => {
    const { downloads, app } = hostWith();
    const worker = downloads.worker(app, { queue: () => expect.unreachable("the gateway's batch went to the host") });
    const id = `wired-${crypto.randomUUID()}`;
    const body = auditMessage(id);
    const batch = createMessageBatch(DEFAULT_QUEUES.audit, [{ id: "m3", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["m3"] });
    expect(await auditRowExists(id)).toBe(true);
  });

  test("the optional audit queues (-2 … -4) are the gateway's too; a -5 is not", async () => {
    const { downloads, app } = hostWith();
    const worker = downloads.worker(app, { queue: () => expect.unreachable("the gateway's batch went to the host") });
    const id = `sharded-${crypto.randomUUID()}`;
    const body = auditMessage(id);
    const batch = createMessageBatch(`${DEFAULT_QUEUES.audit}-3`, [{ id: "m5", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["m5"] });
    expect(await auditRowExists(id)).toBe(true);
    await expect(downloads.queue(createMessageBatch(`${DEFAULT_QUEUES.audit}-5`, [{ id: "m6", timestamp: new Date(), attempts: 1, body }]), env, createExecutionContext())).rejects.toThrow();
  });
});

describe("the reference Worker's queues, named in env (a staging environment's)", () => {
  test("AUDIT_QUEUE_NAME and STREAM_EVENTS_QUEUE_NAME make those queues, and the audit queue's -dlq, the gateway's; the defaults are then not", async () => {
    const staging = envWith({ AUDIT_QUEUE_NAME: "stream-download-audit-staging", STREAM_EVENTS_QUEUE_NAME: "stream-download-stream-events-staging" });
    const { handler } = referenceWorker([]);
    for (const queue of ["stream-download-audit-staging", "stream-download-audit-staging-dlq"]) {
      const id = `staging-${crypto.randomUUID()}`;
      const batch = createMessageBatch(queue, [{ id: "s1", timestamp: new Date(), attempts: 1, body: auditMessage(id) }]);
      const ctx = createExecutionContext();
      await handler.queue(batch, staging, ctx);
      expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["s1"] });
      expect(await auditRowExists(id)).toBe(true);
    }
    const events = createMessageBatch("stream-download-stream-events-staging", [{ id: "s2", timestamp: new Date(), attempts: 1, body: { type: "cf.stream.unknown" } }]);
    const eventsCtx = createExecutionContext();
    await handler.queue(events, staging, eventsCtx);
    expect(await getQueueResult(events, eventsCtx)).toMatchObject({ explicitAcks: ["s2"] });
    for (const queue of [DEFAULT_QUEUES.audit, DEFAULT_QUEUES.deadLetter, DEFAULT_QUEUES.streamEvents]) {
      const production = createMessageBatch(queue, [{ id: "s3", timestamp: new Date(), attempts: 1, body: auditMessage("none") }]);
      await expect(handler.queue(production, staging, createExecutionContext()), queue).rejects.toThrow(/is neither a queue the gateway consumes/);
    }
  });

  test("an app's own AUDIT_QUEUE_NAME is not read by optionsFromEnv: its queue stays the app's", async () => {
    const shop = envWith({ AUDIT_QUEUE_NAME: "shop-audit" });
    const { downloads, app } = hostWith(shop);
    const seen: unknown[] = [];
    const worker = downloads.worker(app, { queue: async (batch) => void seen.push(...batch.messages.map((m) => m.body)) });
    const batch = createMessageBatch("shop-audit", [{ id: "h1", timestamp: new Date(), attempts: 1, body: { order: 7 } }]);
    await worker.queue(batch, shop, createExecutionContext());
    expect(seen).toEqual([{ order: 7 }]);
  });
});

describe("wired by hand", () => {
  test("downloads.scheduled ignores a host's cron (no retention), downloads.queue refuses a host's queue", async () => {
    const { downloads } = hostWith();
    const row = await oldAuditRow();
    const ctx = createExecutionContext();
    await downloads.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "5 4 * * *" }), env, ctx);
    expect(await auditRowExists(row)).toBe(true);
    const hostBatch = createMessageBatch("orders", [{ id: "m4", timestamp: new Date(), attempts: 1, body: { order: 2 } }]);
    await expect(downloads.queue(hostBatch, env, ctx)).rejects.toThrow(/not its queue/);
  });

  test.each([
    [{ crons: { retention: "daily" } }, "crons.retention"],
    [{ crons: { recheck: DEFAULT_CRONS.retention } }, "crons.recheck"],
    [{ queues: { audit: "Audit Queue" } }, "queues.audit"],
    [{ queues: { audit: "a", deadLetter: "a" } }, "queues.deadLetter"],
  ])("wrong wiring %o is a misconfiguration that names it", async (wiring, setting) => {
    const wrong = streamDownloads((e: Env) => ({ ...optionsFromEnv(e), ...wiring }));
    const problem = await expectProblem(await callHost(wrong, `https://gw.example/v1/videos/${"ab".repeat(16)}/download`), 500, "misconfigured");
    expect(problem.setting).toBe(setting);
  });
});

describe("a Worker that does not consume its audit queue", () => {
  test("is logged once per isolate within a minute of traffic, and the admin API says misconfigured; a consumed queue says ok", async () => {
    const uid = await readyVideo();
    // As if events had been sent two minutes ago and no batch written since.
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO audit_sent (id, sent_at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at").bind(now - 120_000),
      env.DB.prepare("INSERT INTO audit_progress (id, written_at, waited_ms) VALUES (1, ?1, 0) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at").bind(now - 600_000),
    ]);
    const audit = async () =>
      ((await (await callHost(hostWith().downloads, "https://gw.example/v1/admin/audit?limit=1", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
        freshness: { consumer: string; pendingSince: string | null };
      }).freshness;
    expect((await audit()).consumer).toBe("misconfigured");

    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { downloads } = hostWith();
    for (let i = 0; i < 3; i++) {
      const res = await callHost(downloads, `https://gw.example/v1/videos/${uid}/download`, { headers: { "x-session": `u-${i}` } });
      expect(res.status).toBe(302);
    }
    const loud = errors.mock.calls.filter(([line]) => String(line).startsWith("misconfigured: audit events sent"));
    expect(loud).toHaveLength(1);
    expect(String(loud[0]?.[0])).toMatch(/export default downloads\.worker\(app\)/);

    // The real consumer then writes those downloads' events: the queue is consumed again.
    await vi.waitFor(async () => expect((await audit()).consumer).toBe("ok"), { timeout: 10_000, interval: 100 });
  });

  test("exporting only fetch loses nothing: each event is written to D1 at once; through downloads.worker(app) it is left to the queue", async () => {
    const uid = await readyVideo();
    // A queue that takes every message and never delivers one, as for a Worker without a consumer.
    const sent: unknown[] = [];
    const silent = { send: async (message: unknown) => void sent.push(message), sendBatch: async () => {} } as unknown as Queue<QueueMessage>;
    const downloadOnce = async (downloads: ReturnType<typeof streamDownloads<Env>>) => {
      const ctx = createExecutionContext();
      const res = await downloads.request(`/v1/videos/${uid}/download`, { headers: { "x-session": `u-${crypto.randomUUID()}` } }, env, ctx);
      expect(res.status).toBe(302);
      await waitOnExecutionContext(ctx);
      const event = (sent.at(-1) as { event: { id: string } }).event;
      return auditRowExists(event.id);
    };
    const build = () =>
      streamDownloads((e: Env) => ({
        ...optionsFromEnv(e),
        bindings: { ...e, AUDIT_QUEUE: silent },
        identify: (c) => ({ id: c.req.header("x-session") ?? "nobody" }),
        entitle: () => true,
      }));
    vi.spyOn(console, "error").mockImplementation(() => {});

    expect(await downloadOnce(build())).toBe(true);
    const wired = build();
    wired.worker(new Hono());
    expect(await downloadOnce(wired)).toBe(false);
    expect(sent).toHaveLength(2);

    // Exported, but seen missing (no consumer in the config, a wrong queue name): written directly too.
    await seedMissingConsumer();
    const seenMissing = build();
    seenMissing.worker(new Hono());
    expect(await downloadOnce(seenMissing)).toBe(false);
    expect(await downloadOnce(seenMissing)).toBe(true);
  });

  test("steady traffic cannot hide a missing consumer: the mark moves on only once a batch is written after it", async () => {
    const now = await seedMissingConsumer();
    for (const later of [now, now + 30_000, now + 60_000]) expect((await markSent(env.DB, later)).consumer).toBe("misconfigured");
    expect((await auditFreshness(env.DB, now + 60_000)).pendingSince).toBe(now - 120_000);
    await progressStatement(env.DB, now + 61_000, now).run();
    expect((await markSent(env.DB, now + 62_000)).consumer).toBe("ok");
    expect((await auditFreshness(env.DB, now + 62_000)).pendingSince).toBe(now + 62_000);
  });

  test("the crons say so on every run", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO audit_sent (id, sent_at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at").bind(now - 120_000),
      env.DB.prepare("INSERT INTO audit_progress (id, written_at, waited_ms) VALUES (1, ?1, 0) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at").bind(now - 600_000),
    ]);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { downloads } = hostWith();
    for (const cron of [DEFAULT_CRONS.recheck, DEFAULT_CRONS.recheck]) {
      const ctx = createExecutionContext();
      await downloads.scheduled(createScheduledController({ scheduledTime: now, cron }), env, ctx);
      await waitOnExecutionContext(ctx);
    }
    expect(errors.mock.calls.filter(([line]) => String(line).startsWith("misconfigured: audit events wait unwritten"))).toHaveLength(2);
  });
});
