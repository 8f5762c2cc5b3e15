// The emulator's event subscriptions, publisher side: which messages reach the queue, when, and
// in what shape (emulator/README.md › Event subscriptions). The account is built in the test
// with a fake queue (or none) and a clock the test moves, so that every case and its timing are
// pinned without waiting; `alarm()` does what workerd does when the account's alarm is due.
import { beforeEach, describe, expect, test } from "vitest";
import devAccount from "../../../emulator/fixtures/dev-account.json";
import { buildApp } from "../../../emulator/src/app";
import { AccountBinding } from "../../../emulator/src/binding-calls";
import { Emulator } from "../../../emulator/src/emulator";
import type { Memory } from "../../../emulator/src/instruments";
import { readSettings } from "../../../emulator/src/settings";
import { emptyState } from "../../../emulator/src/store";

const DELIVERY = "https://customer-events.cloudflarestream.com";
const settings = readSettings({ DELIVERY_BASE: DELIVERY, DOWNLOAD_SECONDS: "8", PROCESSING_SECONDS: "20" });
const QUEUE_ID = settings.eventsQueue.id;
const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

/** The synchronous storage API the account gets from its Durable Object, over a Map. */
class MapMemory implements Memory {
  readonly #map = new Map<string, unknown>();

  get<T>(key: string): T | undefined {
    return structuredClone(this.#map.get(key)) as T | undefined;
  }

  put<T>(key: string, value: T): void {
    this.#map.set(key, structuredClone(value));
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  *list<T>(options: SyncKvListOptions = {}): Iterable<[string, T]> {
    for (const key of [...this.#map.keys()].sort()) {
      if (key.startsWith(options.prefix ?? "")) yield [key, this.get<T>(key) as T];
    }
  }
}

/** A queue that keeps what it is sent, or refuses it. */
class FakeQueue implements Queue {
  readonly sent: unknown[] = [];
  refuse = false;

  async send(message: unknown): Promise<QueueSendResponse> {
    if (this.refuse) throw new Error("Queue send failed: Internal Server Error");
    this.sent.push(message);
    return { metadata: { metrics: { backlogCount: this.sent.length, backlogBytes: 0 } } };
  }

  async sendBatch(messages: Iterable<MessageSendRequest>): Promise<QueueSendBatchResponse> {
    for (const { body } of messages) await this.send(body);
    return { metadata: { metrics: { backlogCount: this.sent.length, backlogBytes: 0 } } };
  }

  async metrics(): Promise<QueueMetrics> {
    return { backlogCount: this.sent.length, backlogBytes: 0 };
  }
}

interface Account {
  queue: FakeQueue;
  webhooks: Request[];
  binding: AccountBinding;
  /** When the account's alarm is set for, or null. */
  alarmAt(): number | null;
  /** Moves the clock to the alarm's time (or `lateMs` after it) and runs the alarm. */
  alarm(lateMs?: number): Promise<void>;
  rest<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: { result: T; errors: { code: number; message: string }[] } }>;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

function account(options: { bound?: boolean } = {}): Account {
  let now = T0;
  let alarmAt: number | null = null;
  const queue = new FakeQueue();
  const webhooks: Request[] = [];
  class Clocked extends Emulator {
    override now(): number {
      return now;
    }
  }
  const emulator = new Clocked(
    settings,
    emptyState(),
    {
      save: async () => {},
      wakeAt: async (time) => {
        alarmAt = time;
      },
    },
    new MapMemory(),
    {
      webhook: async (request) => {
        webhooks.push(request);
        return new Response(null, { status: 204 });
      },
      events: options.bound === false ? undefined : queue,
    },
  );
  const app = buildApp(emulator);
  const call = (url: string, method: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(url, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    queue,
    webhooks,
    binding: new AccountBinding(emulator),
    alarmAt: () => alarmAt,
    async alarm(lateMs = 0) {
      if (alarmAt === null) throw new Error("no alarm is set");
      now = Math.max(now, alarmAt + lateMs);
      await emulator.deliverDue();
    },
    async rest(method, path, body) {
      const res = await call(`https://api.cloudflare.com/client/v4/accounts/${devAccount.accountId}${path}`, method, body, {
        authorization: `Bearer ${devAccount.apiToken}`,
      });
      return { status: res.status, body: await res.json() };
    },
    async control(method, path, body) {
      const res = await call(`${DELIVERY}/__emulator${path}`, method, body);
      if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${await res.text()}`);
      return (res.status === 204 ? undefined : await res.json()) as never;
    },
  };
}

let stream: Account;
beforeEach(() => {
  stream = account();
});

async function subscribe(events: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const created = await stream.rest<{ id: string }>("POST", "/event_subscriptions/subscriptions", {
    name: "test",
    source: { type: "stream" },
    destination: { type: "queues.queue", queue_id: QUEUE_ID },
    events,
    ...extra,
  });
  expect(created.status).toBe(200);
  return created.body.result.id;
}

async function seed(body: Record<string, unknown>): Promise<string> {
  const { uid } = await stream.control<{ uid: string }>("POST", "/videos", { name: "Launch", ...body });
  return uid;
}

/** The message Stream puts on the queue, per the Queues "Events & schemas" page. */
const message = (type: string, subscription: string, at: number, payload: unknown) => ({
  type: `cf.stream.${type}`,
  source: { type: "stream" },
  payload,
  metadata: { accountId: devAccount.accountId, eventSubscriptionId: subscription, eventSchemaVersion: 1, eventTimestamp: iso(at) },
});
const mp4 = (uid: string) => `${DELIVERY}/${uid}/downloads/default.mp4`;

describe("download events", () => {
  test("a download created through the API is published as created at once and as ready when the alarm fires DOWNLOAD_SECONDS later", async () => {
    const uid = await seed({});
    const subscription = await subscribe(["download.created", "download.ready"]);
    await subscribe(["video_state.ready"]);
    await subscribe(["download.created", "download.ready"], { enabled: false });

    expect((await stream.rest("POST", `/stream/${uid}/downloads`)).status).toBe(200);
    expect(stream.alarmAt()).toBe(T0);
    await stream.alarm();
    expect(stream.queue.sent).toEqual([
      message("download.created", subscription, T0, { videoId: uid, percentComplete: 0, status: "inprogress", url: mp4(uid) }),
    ]);

    expect(stream.alarmAt()).toBe(T0 + 8000);
    // An alarm that fires late publishes what happened when it happened.
    await stream.alarm(1500);
    expect(stream.queue.sent.slice(1)).toEqual([
      message("download.ready", subscription, T0 + 8000, { videoId: uid, percentComplete: 100, status: "ready", url: mp4(uid) }),
    ]);
    expect(stream.alarmAt()).toBeNull();

    const { published, queue } = await stream.control<{ published: { queue: string; message: unknown; error: null }[]; queue: unknown }>("GET", "/events");
    expect(queue).toEqual({ id: QUEUE_ID, name: "stream-download-stream-events", created: expect.any(String), bound: true });
    expect(published.map((p) => [p.queue, p.message, p.error])).toEqual(stream.queue.sent.map((m) => ["stream-download-stream-events", m, null]));
    expect(await stream.control("GET", `/counters?video=${uid}`)).toEqual({
      api: 1,
      delivery: 0,
      byOperation: { "downloads.create": 1, "events.publish": 2 },
    });
  });

  test("a download that fails is published as errored when it fails, halfway through", async () => {
    const uid = await seed({ downloadOutcome: { audio: "error" } });
    const subscription = await subscribe(["download.errored", "download.ready"]);
    await stream.rest("POST", `/stream/${uid}/downloads/audio`);
    await stream.alarm();
    expect(stream.queue.sent).toEqual([]);
    expect(stream.alarmAt()).toBe(T0 + 4000);
    await stream.alarm();
    expect(stream.queue.sent).toEqual([
      message("download.errored", subscription, T0 + 4000, {
        videoId: uid,
        percentComplete: 50,
        status: "error",
        url: `${DELIVERY}/${uid}/downloads/audio.m4a`,
      }),
    ]);
  });

  test("a download created already finished is published as created with status ready, then as ready", async () => {
    const uid = await seed({ downloadSeconds: 0 });
    const subscription = await subscribe(["download.created", "download.ready"]);
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    const ready = { videoId: uid, percentComplete: 100, status: "ready", url: mp4(uid) };
    expect(stream.queue.sent).toEqual([message("download.created", subscription, T0, ready), message("download.ready", subscription, T0, ready)]);
  });

  test("creating a download again publishes nothing, deleting it publishes deleted, and a deleted download is never published as ready", async () => {
    const uid = await seed({});
    const subscription = await subscribe(["download.created", "download.deleted", "download.ready"]);
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.rest("POST", `/stream/${uid}/downloads/default`);
    expect((await stream.rest("DELETE", `/stream/${uid}/downloads`)).status).toBe(200);
    await stream.alarm();
    const inprogress = { videoId: uid, percentComplete: 0, status: "inprogress", url: mp4(uid) };
    expect(stream.queue.sent).toEqual([message("download.created", subscription, T0, inprogress), message("download.deleted", subscription, T0, inprogress)]);
    expect(stream.alarmAt()).toBeNull();
  });

  test("downloads generated and deleted through the Workers binding publish the same events", async () => {
    const uid = await seed({});
    const subscription = await subscribe(["download.created", "download.deleted", "download.ready"]);
    expect(await stream.binding.downloadsGenerate(uid, "audio")).toMatchObject({ ok: true });
    await stream.alarm();
    await stream.alarm();
    expect(await stream.binding.downloadsDelete(uid, "audio")).toEqual({ ok: true, value: null });
    await stream.alarm();
    const url = `${DELIVERY}/${uid}/downloads/audio.m4a`;
    expect(stream.queue.sent).toEqual([
      message("download.created", subscription, T0, { videoId: uid, percentComplete: 0, status: "inprogress", url }),
      message("download.ready", subscription, T0 + 8000, { videoId: uid, percentComplete: 100, status: "ready", url }),
      message("download.deleted", subscription, T0 + 8000, { videoId: uid, percentComplete: 100, status: "ready", url }),
    ]);
  });

  test("finishing a download through the control API moves its event to now", async () => {
    const uid = await seed({ downloadSeconds: 600 });
    const subscription = await subscribe(["download.ready"]);
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    expect(stream.alarmAt()).toBe(T0 + 600_000);
    await stream.control("POST", `/videos/${uid}/downloads/default/finish`);
    expect(stream.alarmAt()).toBe(T0);
    await stream.alarm();
    expect(stream.queue.sent).toEqual([
      message("download.ready", subscription, T0, { videoId: uid, percentComplete: 100, status: "ready", url: mp4(uid) }),
    ]);
  });
});

describe("the downloadCompletionEvents quirk", () => {
  test("false: only download.created and download.deleted exist; a subscription naming download.ready is refused", async () => {
    await stream.control("PUT", "/quirks", { downloadCompletionEvents: false });
    const refused = await stream.rest("POST", "/event_subscriptions/subscriptions", {
      name: "completion",
      source: { type: "stream" },
      destination: { type: "queues.queue", queue_id: QUEUE_ID },
      events: ["download.created", "download.ready"],
    });
    expect(refused).toEqual({
      status: 400,
      body: expect.objectContaining({ errors: [{ code: 10005, message: "Bad Request: events: download.ready is not an event of source stream" }] }),
    });
    const subscription = await subscribe(["download.created", "download.deleted"]);
    const uid = await seed({ downloadSeconds: 1 });
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    await stream.alarm();
    await stream.rest("DELETE", `/stream/${uid}/downloads`);
    await stream.alarm();
    expect((stream.queue.sent as { type: string }[]).map((m) => m.type)).toEqual(["cf.stream.download.created", "cf.stream.download.deleted"]);
    expect(stream.queue.sent.every((m) => (m as { metadata: { eventSubscriptionId: string } }).metadata.eventSubscriptionId === subscription)).toBe(true);
  });

  test("false: a subscription made while they existed no longer receives them", async () => {
    await subscribe(["download.ready", "download.errored"]);
    await stream.control("PUT", "/quirks", { downloadCompletionEvents: false });
    const uid = await seed({ downloadSeconds: 1 });
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    await stream.alarm();
    expect(stream.queue.sent).toEqual([]);
  });

  test("true (the default): they are published", async () => {
    expect(await stream.control("GET", "/quirks")).toMatchObject({ downloadCompletionEvents: true });
    await subscribe(["download.ready"]);
    const uid = await seed({ downloadSeconds: 1 });
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    await stream.alarm();
    expect((stream.queue.sent as { type: string }[]).map((m) => m.type)).toEqual(["cf.stream.download.ready"]);
  });
});

describe("video events", () => {
  test("processing that finishes is published as video_state.ready, carrying the video as the binding returns it, when the webhook is called", async () => {
    await stream.control("PUT", "/webhook", { notificationUrl: "https://gateway.test/webhooks/stream", secret: "s3cret" });
    const subscription = await subscribe(["video_state.ready", "video_state.errored"]);
    const uid = await seed({ state: "queued", processingSeconds: 20 });
    expect(stream.alarmAt()).toBe(T0 + 20_000);
    await stream.alarm();
    expect(stream.webhooks).toHaveLength(1);
    expect(stream.queue.sent).toEqual([
      message("video_state.ready", subscription, T0 + 20_000, {
        ...(await stream.binding.details(uid).then((d) => (d.ok ? d.value : null))),
        id: uid,
        readyToStream: true,
        status: expect.objectContaining({ state: "ready", pctComplete: "100.000000", errorReasonCode: "", errorReasonText: "" }),
        meta: { name: "Launch" },
      }),
    ]);
    expect(stream.queue.sent[0]).not.toHaveProperty("payload.uid");
  });

  test("a video whose processing fails is published as video_state.errored", async () => {
    const subscription = await subscribe(["video_state.ready", "video_state.errored", "video_state.updated"]);
    const uid = await seed({ state: "inprogress", processingSeconds: 600 });
    await stream.control("POST", `/videos/${uid}/state`, { state: "error" });
    await stream.alarm();
    expect(stream.queue.sent).toEqual([
      message("video_state.errored", subscription, T0, expect.objectContaining({
        id: uid,
        readyToStream: false,
        status: expect.objectContaining({ state: "error", errorReasonCode: "ERR_MALFORMED_VIDEO" }),
      })),
    ]);
  });

  test("editing a ready video publishes video_state.updated with the change; editing one still processing does not", async () => {
    const subscription = await subscribe(["video_state.updated"]);
    const ready = await seed({ requireSignedURLs: true });
    const processing = await seed({ state: "queued", processingSeconds: 600 });
    expect((await stream.rest("POST", `/stream/${ready}`, { meta: { name: "Renamed" } })).status).toBe(200);
    await stream.control("PATCH", `/videos/${ready}`, { requireSignedURLs: false });
    await stream.control("PATCH", `/videos/${ready}`, { downloadSeconds: 3 });
    await stream.rest("POST", `/stream/${processing}`, { meta: { name: "Renamed too" } });
    await stream.alarm();
    expect(stream.queue.sent).toEqual([
      message("video_state.updated", subscription, T0, expect.objectContaining({ id: ready, meta: { name: "Renamed" }, requireSignedURLs: true })),
      message("video_state.updated", subscription, T0, expect.objectContaining({ id: ready, meta: { name: "Renamed" }, requireSignedURLs: false })),
    ]);
  });

  test("a ready video that enters the error state is published as video_state.updated, not errored", async () => {
    const subscription = await subscribe(["video_state.updated", "video_state.errored"]);
    const uid = await seed({});
    await stream.control("POST", `/videos/${uid}/state`, { state: "error" });
    await stream.alarm();
    expect(stream.queue.sent).toEqual([
      message("video_state.updated", subscription, T0, expect.objectContaining({ id: uid, status: expect.objectContaining({ state: "error" }) })),
    ]);
  });
});

describe("when nothing is published", () => {
  test("without the STREAM_EVENTS binding nothing goes out or is counted, and GET /__emulator/events says so", async () => {
    stream = account({ bound: false });
    await subscribe(["download.created", "download.ready"]);
    const uid = await seed({ downloadSeconds: 1 });
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    await stream.alarm();
    expect(stream.queue.sent).toEqual([]);
    expect(await stream.control("GET", "/events")).toEqual({ queue: expect.objectContaining({ bound: false }), published: [] });
    expect(await stream.control("GET", `/counters?video=${uid}`)).toMatchObject({ byOperation: { "downloads.create": 1 } });
  });

  test("without a subscription nothing is published", async () => {
    const uid = await seed({ downloadSeconds: 1 });
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    await stream.alarm();
    expect(stream.queue.sent).toEqual([]);
    expect((await stream.control<{ published: unknown[] }>("GET", "/events")).published).toEqual([]);
  });

  test("a message the queue refuses is logged with the queue's error and not sent again", async () => {
    await subscribe(["download.created"]);
    const uid = await seed({});
    stream.queue.refuse = true;
    await stream.rest("POST", `/stream/${uid}/downloads`);
    await stream.alarm();
    const { published } = await stream.control<{ published: { message: { type: string }; error: string }[] }>("GET", "/events");
    expect(published.map((p) => [p.message.type, p.error])).toEqual([["cf.stream.download.created", "Queue send failed: Internal Server Error"]]);
    stream.queue.refuse = false;
    expect(stream.alarmAt()).toBe(T0 + 8000);
    await stream.alarm();
    expect(stream.queue.sent).toEqual([]);
  });
});
