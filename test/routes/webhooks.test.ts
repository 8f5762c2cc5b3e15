// POST /webhooks/stream (docs/http-api.md, docs/stream-behaviour.md §4): signature checks, readiness recording and
// PREPARE_DOWNLOADS, with the emulator's counters as witnesses of what reached Stream. Every test
// seeds its own video; faults are scoped to it because the emulator is shared with other files.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { DEFAULT_CRONS } from "../../src/config/wiring-names";
import { afterEach, describe, expect, test } from "vitest";
import { api, control, counters, injectFault, removeFault, removeFaults, seedVideo, sleep } from "../emulator/helpers";
import { GATEWAY, callWorker, download, envWith, expectProblem, gateway, resetStreamBudget } from "../helpers";

const SECRET = env.STREAM_WEBHOOK_SECRET;
const PREPARE = envWith({ PREPARE_DOWNLOADS: "default,audio" });
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface StateRow {
  type: string;
  status: string;
  refusal: string | null;
  percent: number;
  video_name: string | null;
  checked_at: number;
  polled_at: number;
}

async function rows(uid: string): Promise<StateRow[]> {
  const result = await env.DB.prepare(
    "SELECT type, status, refusal, percent, video_name, checked_at, polled_at FROM download_state WHERE video_id = ?1 ORDER BY type",
  )
    .bind(uid)
    .all<StateRow>();
  return result.results;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `Webhook-Signature` as Stream computes it: HMAC-SHA256 over `<time>.<raw body>`. */
async function signature(body: string, options: { secret?: string; time?: number } = {}): Promise<string> {
  const time = options.time ?? nowSeconds();
  return `time=${time},sig1=${await hmacHex(options.secret ?? SECRET, `${time}.${body}`)}`;
}

/** The video object exactly as Stream (the emulator) renders it, as the webhook body. */
async function videoBody(uid: string): Promise<string> {
  const res = await api<Record<string, unknown>>(`/${uid}`);
  expect(res.status).toBe(200);
  return JSON.stringify(res.body.result);
}

function hookRequest(body: string, header: string | null): RequestInit {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (header !== null) headers["webhook-signature"] = header;
  return { method: "POST", headers, body };
}

const deliver = (body: string, header: string | null) => gateway("/webhooks/stream", hookRequest(body, header));
const deliverWith = (testEnv: Env, body: string, header: string | null) => callWorker(testEnv, "/webhooks/stream", hookRequest(body, header));
/** The cron's every-ten-minutes run, which asks again for unfinished PREPARE_DOWNLOADS downloads. */
async function recheck(testEnv: Env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: DEFAULT_CRONS.recheck }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
}

const creates = async (uid: string) => (await counters(uid)).byOperation["downloads.create"] ?? 0;

/** A video that was still processing when a user asked for it: its rows carry video-not-ready. */
async function refusedWhileProcessing(): Promise<string> {
  const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600 });
  await expectProblem(await download(uid), 409, "video-not-ready");
  await expectProblem(await download(uid, { query: "?type=audio" }), 409, "video-not-ready");
  expect(await rows(uid)).toMatchObject([
    { type: "audio", status: "pending", refusal: "video-not-ready" },
    { type: "default", status: "pending", refusal: "video-not-ready" },
  ]);
  return uid;
}

afterEach(removeFaults);

describe("signature", () => {
  test("a validly signed webhook for a ready video clears video-not-ready so the next request goes on at once", async () => {
    const uid = await refusedWhileProcessing();
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    const body = await videoBody(uid);

    const res = await deliver(body, await signature(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, unfinished: 0 });
    expect(await rows(uid)).toMatchObject([
      { type: "audio", status: "pending", refusal: null, polled_at: 0 },
      { type: "default", status: "pending", refusal: null, polled_at: 0 },
    ]);
    // Without PREPARE_DOWNLOADS the webhook itself creates nothing; the next request does.
    expect(await creates(uid)).toBe(0);
    expect((await download(uid)).status).toBe(202);
    expect(await creates(uid)).toBe(1);
  });

  test("a signature 4 minutes old is still accepted", async () => {
    const { uid } = await seedVideo();
    const body = await videoBody(uid);
    expect((await deliver(body, await signature(body, { time: nowSeconds() - 240 }))).status).toBe(200);
  });

  const refusals: [string, (body: string) => Promise<{ body: string; header: string | null }>][] = [
    ["a tampered body", async (body) => ({ body: body.replace('"readyToStream":true', '"readyToStream": true'), header: await signature(body) })],
    ["the wrong secret", async (body) => ({ body, header: await signature(body, { secret: "not-the-webhook-secret" }) })],
    ["a time more than 5 minutes old", async (body) => ({ body, header: await signature(body, { time: nowSeconds() - 301 }) })],
    ["a time more than 5 minutes ahead", async (body) => ({ body, header: await signature(body, { time: nowSeconds() + 301 }) })],
    ["no Webhook-Signature header", async (body) => ({ body, header: null })],
    ["an empty header", async (body) => ({ body, header: "" })],
    ["a header without sig1", async (body) => ({ body, header: `time=${nowSeconds()}` })],
    ["a header without time", async (body) => ({ body, header: (await signature(body)).replace(/^time=\d+,/, "") })],
    ["a non-numeric time", async (body) => ({ body, header: (await signature(body)).replace(/^time=\d+/, "time=soon") })],
    ["a short sig1", async (body) => ({ body, header: (await signature(body)).slice(0, -2) })],
    ["a repeated sig1", async (body) => ({ body, header: `${await signature(body)},sig1=${"0".repeat(64)}` })],
    ["a part without =", async (body) => ({ body, header: `${await signature(body)},garbage` })],
    ["another scheme's header", async (body) => ({ body, header: `t=${nowSeconds()},v1=${await hmacHex(SECRET, body)}` })],
  ];

  test.each(refusals)("%s: 401 unauthenticated, and nothing changes", async (_name, make) => {
    const uid = await refusedWhileProcessing();
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    const before = await rows(uid);
    const { body, header } = await make(await videoBody(uid));

    const res = await deliverWith(PREPARE, body, header);
    await expectProblem(res, 401, "unauthenticated", "/webhooks/stream");
    expect(res.headers.get("www-authenticate")).toMatch(/^Webhook-Signature /);
    expect(await rows(uid)).toEqual(before);
    expect(await creates(uid)).toBe(0);
  });

  test("without STREAM_WEBHOOK_SECRET every webhook is refused: 401", async () => {
    const { uid } = await seedVideo();
    const body = await videoBody(uid);
    const res = await deliverWith(envWith({ STREAM_WEBHOOK_SECRET: "", PREPARE_DOWNLOADS: "default,audio" }), body, await signature(body));
    const problem = await expectProblem(res, 401, "unauthenticated");
    expect(problem.detail).toContain("STREAM_WEBHOOK_SECRET");
    expect(problem.detail).not.toContain(SECRET);
    expect(await rows(uid)).toEqual([]);
  });
});

describe("body", () => {
  test("a body over 1 MB is refused with 413, signed or not", async () => {
    const { uid } = await seedVideo();
    const big = JSON.stringify({ ...JSON.parse(await videoBody(uid)), padding: "x".repeat(1024 * 1024) });
    const problem = await expectProblem(await deliverWith(PREPARE, big, await signature(big)), 413, "payload-too-large");
    expect(problem.maxBytes).toBe(1024 * 1024);
    expect(await rows(uid)).toEqual([]);
  });

  test("a body of exactly 1 MB is read", async () => {
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600 });
    const video = JSON.stringify(JSON.parse(await videoBody(uid)));
    const padded = `${video}${" ".repeat(1024 * 1024 - video.length)}`;
    expect((await deliver(padded, await signature(padded))).status).toBe(200);
  });

  test.each([
    ["not JSON", "{not json", "body"],
    ["JSON that is not a video object", '{"hello":"world"}', "uid"],
    ["a uid that is not 32 lowercase hex", JSON.stringify({ uid: "../../keys", readyToStream: true, status: { state: "ready" }, requireSignedURLs: true }), "uid"],
    ["readyToStream of the wrong type", JSON.stringify({ uid: "a".repeat(32), readyToStream: "yes", status: { state: "ready" }, requireSignedURLs: true }), "readyToStream"],
  ])("validly signed %s: 400 invalid-request naming the field", async (_name, body, field) => {
    const problem = await expectProblem(await deliver(body, await signature(body)), 400, "invalid-request");
    expect(problem.field).toBe(field);
  });
});

describe("PREPARE_DOWNLOADS", () => {
  test("a ready video's downloads are created at once, and a redelivery creates none", async () => {
    const { uid } = await seedVideo({ name: "Quarterly review" });
    const body = await videoBody(uid);
    const started = Date.now();

    const res = await deliverWith(PREPARE, body, await signature(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, unfinished: 0 });
    expect(await creates(uid)).toBe(2);
    const prepared = await rows(uid);
    expect(prepared).toMatchObject([
      { type: "audio", status: "inprogress", refusal: null, video_name: "Quarterly review" },
      { type: "default", status: "inprogress", refusal: null, video_name: "Quarterly review" },
    ]);
    for (const row of prepared) expect(row.checked_at).toBeGreaterThanOrEqual(started);

    const again = await deliverWith(PREPARE, body, await signature(body));
    expect(again.status).toBe(200);
    expect(await creates(uid)).toBe(2);
    expect(await rows(uid)).toEqual(prepared);

    // A user now finds the download under way: no further create.
    expect((await download(uid)).status).toBe(202);
    expect(await creates(uid)).toBe(2);
  });

  test("a video that users were refused while processing is prepared when the webhook says it is ready", async () => {
    const uid = await refusedWhileProcessing();
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    const body = await videoBody(uid);
    expect((await deliverWith(PREPARE, body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(2);
    expect(await rows(uid)).toMatchObject([
      { type: "audio", status: "inprogress", refusal: null },
      { type: "default", status: "inprogress", refusal: null },
    ]);
  });

  test("a video that is not ready to stream gets no downloads", async () => {
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600 });
    const body = await videoBody(uid);
    expect((await deliverWith(PREPARE, body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(0);
    expect(await rows(uid)).toEqual([]);
  });

  test.each([
    ["state ready but readyToStream false (both must hold, Stream's webhooks page)", { readyToStream: false }],
    ["state ready and no readyToStream (absent while not ready)", { readyToStream: undefined }],
    ["live-inprogress with readyToStream true", { status: { state: "live-inprogress" } }],
  ])("%s: no downloads, and refusals of users who asked stay", async (_, fields) => {
    const uid = await refusedWhileProcessing();
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    const body = JSON.stringify({ ...(JSON.parse(await videoBody(uid)) as object), ...fields });
    expect((await deliverWith(PREPARE, body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(0);
    expect(await rows(uid)).toMatchObject([
      { type: "audio", status: "pending", refusal: "video-not-ready" },
      { type: "default", status: "pending", refusal: "video-not-ready" },
    ]);
  });

  test("a public video gets no downloads unless ALLOW_PUBLIC_VIDEOS", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: false });
    const body = await videoBody(uid);
    expect((await deliverWith(PREPARE, body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(0);

    const allowed = envWith({ PREPARE_DOWNLOADS: "default,audio", ALLOW_PUBLIC_VIDEOS: "true" });
    expect((await deliverWith(allowed, body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(2);
  });

  test("a blocked video gets no downloads", async () => {
    const { uid } = await seedVideo();
    await env.DB.prepare("INSERT INTO blocked_videos (video_id, blocked_at) VALUES (?1, ?2)").bind(uid, Date.now()).run();
    const body = await videoBody(uid);
    expect((await deliverWith(PREPARE, body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(0);
  });

  test("only the configured types are prepared", async () => {
    const { uid } = await seedVideo();
    const body = await videoBody(uid);
    expect((await deliverWith(envWith({ PREPARE_DOWNLOADS: "audio" }), body, await signature(body))).status).toBe(200);
    expect(await creates(uid)).toBe(1);
    expect(await rows(uid)).toMatchObject([{ type: "audio", status: "inprogress" }]);
  });

  test("when Stream fails, the webhook still answers 200 (Stream documents no redelivery); the cron's re-check creates the downloads once the lease is free", async () => {
    const { uid } = await seedVideo();
    const fault = await injectFault({ operation: "downloads.create", video: uid, status: 500 });
    const fastPoll = envWith({ PREPARE_DOWNLOADS: "default,audio", POLL_INTERVAL_SECONDS: "1" });
    const body = await videoBody(uid);
    const started = Date.now();

    const failed = await deliverWith(fastPoll, body, await signature(body));
    expect(failed.status).toBe(200);
    expect(await failed.json()).toEqual({ ok: true, unfinished: 2 });
    // Claimed but not created: 'pending' with the lease just taken, as the request path leaves it.
    const pending = await rows(uid);
    expect(pending).toMatchObject([
      { type: "audio", status: "pending", refusal: null },
      { type: "default", status: "pending", refusal: null },
    ]);
    for (const row of pending) expect(row.polled_at).toBeGreaterThanOrEqual(started);

    await removeFault(fault);
    // Within the poll interval the lease is held: a redelivery (should Stream send one) or the
    // re-check leaves Stream alone.
    const attempts = await creates(uid);
    expect((await deliverWith(fastPoll, body, await signature(body))).status).toBe(200);
    await recheck(fastPoll);
    expect(await creates(uid)).toBe(attempts);

    await sleep(1100);
    // The outages opened Stream's breaker (client.test.ts); it would hold the re-check for its backoff.
    await resetStreamBudget();
    await recheck(fastPoll);
    expect(await creates(uid)).toBe(attempts + 2);
    expect(await rows(uid)).toMatchObject([
      { type: "audio", status: "inprogress" },
      { type: "default", status: "inprogress" },
    ]);
  });

  test("blocked videos' unfinished downloads never hold up the re-check: it skips them and makes the others", async () => {
    // More blocked rows than a run takes (20), older than any other: first in line if counted.
    for (let i = 0; i < 21; i++) {
      const blocked = crypto.randomUUID().replaceAll("-", "");
      await env.DB.batch([
        env.DB.prepare("INSERT INTO blocked_videos (video_id, blocked_at) VALUES (?1, 0)").bind(blocked),
        env.DB.prepare("INSERT INTO download_state (video_id, type, status, checked_at, polled_at) VALUES (?1, 'default', 'pending', 0, 0)").bind(blocked),
      ]);
    }
    const { uid } = await seedVideo();
    await env.DB.prepare("INSERT INTO download_state (video_id, type, status, checked_at, polled_at) VALUES (?1, 'default', 'pending', 0, 1)").bind(uid).run();
    await resetStreamBudget();
    await recheck(PREPARE);
    expect(await creates(uid)).toBe(1);
  });
});

describe("end to end: the emulator's webhook reaches the gateway", () => {
  interface Delivery {
    video: string;
    url: string;
    status: number | null;
    error: string | null;
  }
  const NOTIFICATION_URL = `${GATEWAY}/webhooks/stream`;

  // One subscription per account, shared with other test files (test/emulator/api.test.ts
  // subscribes too): deliveries are matched by uid, and the subscription is removed at the end
  // only while it is still this file's.
  afterEach(async () => {
    const current = await api<{ notificationUrl: string }>("/webhook");
    if (current.status === 200 && current.body.result.notificationUrl === NOTIFICATION_URL) {
      await api("/webhook", { method: "DELETE" });
    }
  });

  async function deliveryFor(uid: string): Promise<Delivery> {
    for (let i = 0; i < 60; i++) {
      const found = (await control<Delivery[]>("GET", "/webhook-deliveries")).find((d) => d.video === uid);
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`no webhook delivery for ${uid} within 3 s`);
  }

  test("subscribed with the gateway's secret, a finished video's webhook is accepted and recorded", async () => {
    const uid = await refusedWhileProcessing();
    // The emulator's control API subscribes with a chosen secret; Stream's own PUT picks a new one.
    await control("PUT", "/webhook", { notificationUrl: NOTIFICATION_URL, secret: SECRET });
    await control("POST", `/videos/${uid}/state`, { state: "ready" });

    expect(await deliveryFor(uid)).toMatchObject({ url: NOTIFICATION_URL, status: 200, error: null });
    expect(await rows(uid)).toMatchObject([
      { type: "audio", status: "pending", refusal: null, polled_at: 0 },
      { type: "default", status: "pending", refusal: null, polled_at: 0 },
    ]);
  });

  test("subscribed through Stream's API (a new secret the gateway does not hold), the webhook is refused with 401", async () => {
    const uid = await refusedWhileProcessing();
    const before = await rows(uid);
    const put = await api<{ secret: string }>("/webhook", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ notificationUrl: NOTIFICATION_URL }),
    });
    expect(put.status).toBe(200);
    expect(put.body.result.secret).not.toBe(SECRET);
    await control("POST", `/videos/${uid}/state`, { state: "ready" });

    expect(await deliveryFor(uid)).toMatchObject({ url: NOTIFICATION_URL, status: 401, error: null });
    expect(await rows(uid)).toEqual(before);
  });
});
