// Contract tests for the emulator's event subscriptions API (Queues' `…/event_subscriptions/
// subscriptions` and `…/queues`) and, where the emulator has its STREAM_EVENTS binding, for what
// it publishes (emulator/README.md › Event subscriptions). Subscriptions are account-wide, so
// each test removes the ones it made.
import Cloudflare from "cloudflare";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { ACCOUNT, API_TOKEN, DELIVERY_BASE, api, control, counters, seedVideo, sleep } from "./helpers";

const BASE_URL = "https://api.cloudflare.com/client/v4";
const SUBSCRIPTIONS = `${BASE_URL}/accounts/${ACCOUNT}/event_subscriptions/subscriptions`;
const HEX32 = /^[0-9a-f]{32}$/;

interface EventsView {
  queue: { id: string; name: string; created: string; bound: boolean };
  published: { at: string; queue: string; message: { type: string; payload: Record<string, unknown>; metadata: Record<string, unknown> }; error: string | null }[];
}

interface Subscription {
  id: string;
  name: string;
  enabled: boolean;
  source: { type: string };
  destination: { type: string; queue_id: string };
  events: string[];
  created_at: string;
  modified_at: string;
}

const made: string[] = [];
let queue: EventsView["queue"];

beforeAll(async () => {
  ({ queue } = await control<EventsView>("GET", "/events"));
});
afterEach(async () => {
  for (const id of made.splice(0)) await call("DELETE", `/${id}`);
});

async function call<T = Subscription>(method: string, path = "", body?: unknown, query = "") {
  const res = await fetch(`${SUBSCRIPTIONS}${path}${query}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { result: T; result_info?: Record<string, number>; success: boolean; errors: { code: number; message: string }[] } };
}

async function subscribe(events: string[], extra: Record<string, unknown> = {}): Promise<Subscription> {
  const res = await call("POST", "", { name: "contract", source: { type: "stream" }, destination: { type: "queues.queue", queue_id: queue.id }, events, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  made.push(res.body.result.id);
  return res.body.result;
}

const badRequest = (message: string) => ({ status: 400, body: expect.objectContaining({ success: false, errors: [{ code: 10005, message: `Bad Request: ${message}` }] }) });

describe("the queue", () => {
  test("GET …/queues lists the one queue the emulator publishes to, by the id and name GET /__emulator/events names", async () => {
    const res = await fetch(`${BASE_URL}/accounts/${ACCOUNT}/queues`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      result: [{ queue_id: queue.id, queue_name: "stream-download-stream-events", created_on: queue.created, modified_on: queue.created }],
      success: true,
      errors: [],
      messages: [],
    });
    expect(queue.id).toMatch(HEX32);
  });
});

describe("subscriptions", () => {
  test("the official cloudflare SDK creates, lists, reads, edits and deletes a subscription, and lists the queue", async () => {
    const client = new Cloudflare({ apiToken: API_TOKEN, baseURL: BASE_URL, maxRetries: 0 });
    const before = Date.now();
    const created = await client.queues.subscriptions.create({
      account_id: ACCOUNT,
      name: "downloads",
      enabled: true,
      source: { type: "stream" } as never,
      destination: { type: "queues.queue", queue_id: queue.id },
      events: ["download.created", "download.ready"],
    });
    made.push(created.id);
    expect(created).toEqual({
      id: expect.stringMatching(HEX32),
      name: "downloads",
      enabled: true,
      source: { type: "stream" },
      destination: { type: "queues.queue", queue_id: queue.id },
      events: ["download.created", "download.ready"],
      created_at: created.modified_at,
      modified_at: expect.any(String),
    });
    expect(Date.parse(created.created_at)).toBeGreaterThanOrEqual(before - 1000);

    const listed = [];
    for await (const subscription of client.queues.subscriptions.list({ account_id: ACCOUNT, per_page: 1 })) listed.push(subscription);
    expect(listed).toContainEqual(created);
    expect(await client.queues.subscriptions.get(created.id, { account_id: ACCOUNT })).toEqual(created);

    const edited = await client.queues.subscriptions.update(created.id, { account_id: ACCOUNT, enabled: false, events: ["download.deleted"] });
    expect(edited).toMatchObject({ id: created.id, name: "downloads", enabled: false, events: ["download.deleted"], created_at: created.created_at });
    expect(Date.parse(edited.modified_at)).toBeGreaterThanOrEqual(Date.parse(created.modified_at));

    expect(await client.queues.subscriptions.delete(created.id, { account_id: ACCOUNT })).toEqual(edited);
    made.splice(made.indexOf(created.id), 1);
    await expect(client.queues.subscriptions.get(created.id, { account_id: ACCOUNT })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);

    const queues = [];
    for await (const q of client.queues.list({ account_id: ACCOUNT })) queues.push(q);
    expect(queues.map((q) => q.queue_id)).toEqual([queue.id]);
  });

  test("a destination may name the queue as queueId, as Stream's guide writes it; the answer says queue_id", async () => {
    const res = await call("POST", "", {
      name: "camel",
      source: { type: "stream" },
      destination: { type: "queues.queue", queueId: queue.id },
      events: ["video_state.ready"],
    });
    expect(res.status).toBe(200);
    made.push(res.body.result.id);
    expect(res.body.result.destination).toEqual({ type: "queues.queue", queue_id: queue.id });
    expect(res.body.result.enabled).toBe(true);
  });

  test("the list pages with result_info and sorts by name when asked", async () => {
    const b = await subscribe(["video_state.ready"], { name: "b-list" });
    const a = await subscribe(["video_state.ready"], { name: "a-list" });
    const first = await call<Subscription[]>("GET", "", undefined, "?order=name&direction=asc&per_page=1&page=1");
    const all = await call<Subscription[]>("GET", "", undefined, "?order=name&direction=desc&per_page=100");
    expect(first.status).toBe(200);
    expect(first.body.result_info).toEqual({ page: 1, per_page: 1, count: 1, total_count: all.body.result.length, total_pages: all.body.result.length });
    const names = all.body.result.map((s) => s.name);
    expect(names).toEqual([...names].sort().reverse());
    expect(names.indexOf(b.name)).toBeLessThan(names.indexOf(a.name));
  });

  test("a create is refused for another queue (404 11000), an unknown event, another source or missing fields (400)", async () => {
    const body = { name: "refused", source: { type: "stream" }, destination: { type: "queues.queue", queue_id: queue.id }, events: ["download.created"] };
    expect(await call("POST", "", { ...body, destination: { type: "queues.queue", queue_id: "f".repeat(32) } })).toEqual({
      status: 404,
      body: expect.objectContaining({ errors: [{ code: 11000, message: "Queue does not exist" }] }),
    });
    expect(await call("POST", "", { ...body, source: { type: "r2" } })).toEqual(badRequest("source.type: only stream is emulated"));
    expect(await call("POST", "", { ...body, destination: { type: "queues.queue" } })).toEqual(badRequest("destination.queue_id: Required"));
    const unknownEvent = await call("POST", "", { ...body, events: ["download.finished"] });
    expect(unknownEvent.status).toBe(400);
    expect(unknownEvent.body.errors[0]?.message).toMatch(/^Bad Request: events\.0: /);
    for (const missing of ["name", "events", "destination", "source"]) {
      const res = await call("POST", "", Object.fromEntries(Object.entries(body).filter(([key]) => key !== missing)));
      expect(res.status, missing).toBe(400);
      expect(res.body.errors[0]?.message, missing).toMatch(new RegExp(`^Bad Request: ${missing}: `));
    }
    expect((await call<Subscription[]>("GET", "", undefined, "?per_page=100")).body.result.filter((s) => s.name === "refused")).toEqual([]);
  });

  test("an edit keeps the source: another one is refused with 400", async () => {
    const subscription = await subscribe(["video_state.ready"]);
    expect(await call("PATCH", `/${subscription.id}`, { source: { type: "kv" } })).toEqual(badRequest("source: cannot be changed"));
    expect((await call("PATCH", `/${subscription.id}`, { source: { type: "stream" }, name: "renamed" })).body.result.name).toBe("renamed");
  });

  test("an unknown subscription id answers 404 7003/7000 to GET, PATCH and DELETE", async () => {
    const id = "e".repeat(32);
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await call(method, `/${id}`, method === "PATCH" ? { enabled: false } : undefined);
      expect(res.status, method).toBe(404);
      expect(res.body.errors.map((e) => e.code), method).toEqual([7003, 7000]);
    }
  });

  test("calls are authenticated and counted like every API call, a refused one too", async () => {
    const before = (await counters()).byOperation;
    const denied = await fetch(SUBSCRIPTIONS);
    expect(denied.status).toBe(400);
    await call("GET");
    await fetch(`${BASE_URL}/accounts/${ACCOUNT}/queues`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const after = (await counters()).byOperation;
    expect((after["queues.subscriptions.list"] ?? 0) - (before["queues.subscriptions.list"] ?? 0)).toBe(2);
    expect((after["queues.list"] ?? 0) - (before["queues.list"] ?? 0)).toBe(1);
  });
});

// Runs where the emulator has its STREAM_EVENTS producer binding (vitest.config.ts's emulator
// Worker: `queueProducers`); without it the emulator publishes nothing, which the unit tests pin.
describe.runIf(await control<EventsView>("GET", "/events").then((v) => v.queue.bound))("publishing through the STREAM_EVENTS binding", () => {
  async function publishedFor(uid: string, count: number): Promise<EventsView["published"]> {
    for (let i = 0; i < 40; i++) {
      const mine = (await control<EventsView>("GET", "/events")).published.filter(
        (p) => p.message.payload.videoId === uid || p.message.payload.id === uid,
      );
      if (mine.length >= count) return mine;
      await sleep(100);
    }
    return [];
  }

  test("a download is published as created, then ready DOWNLOAD_SECONDS (1 s in tests) later, without anyone asking", async () => {
    const subscription = await subscribe(["download.created", "download.ready"]);
    const { uid } = await seedVideo({ downloadSeconds: 1 });
    expect((await api(`/${uid}/downloads`, { method: "POST" })).status).toBe(200);
    const published = await publishedFor(uid, 2);
    expect(published.map((p) => [p.queue, p.error, p.message])).toEqual([
      [queue.name, null, expect.objectContaining({ type: "cf.stream.download.created", payload: { videoId: uid, percentComplete: 0, status: "inprogress", url: `${DELIVERY_BASE}/${uid}/downloads/default.mp4` } })],
      [queue.name, null, expect.objectContaining({ type: "cf.stream.download.ready", payload: { videoId: uid, percentComplete: 100, status: "ready", url: `${DELIVERY_BASE}/${uid}/downloads/default.mp4` } })],
    ]);
    expect(published[1]?.message.metadata).toEqual({
      accountId: ACCOUNT,
      eventSubscriptionId: subscription.id,
      eventSchemaVersion: 1,
      eventTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect((await counters(uid)).byOperation["events.publish"]).toBe(2);
  });

  test("processing that finishes is published as video_state.ready with the video's id", async () => {
    await subscribe(["video_state.ready"]);
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 0.5 });
    const [ready] = await publishedFor(uid, 1);
    expect(ready?.message).toMatchObject({ type: "cf.stream.video_state.ready", payload: { id: uid, readyToStream: true, status: { state: "ready" } } });
  });
});
