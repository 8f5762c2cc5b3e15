// Stream's event subscription messages, consumed from the queue (src/ensure/stream-events.ts): what
// each teaches the download state and the catalogue, and what the gateway then stops asking Stream.
import { createMessageBatch, env, getQueueResult, createExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, test } from "vitest";
import worker from "../../src/dev";
import { readState } from "../../src/ensure/download-state";
import { appToken, callWorker, download, envWith, randomUid, randomUser } from "../helpers";
import { control, counters, seedVideo } from "../emulator/helpers";

const QUEUE = "stream-download-stream-events";
const DELIVERY = "https://customer-test.cloudflarestream.com";

const metadata = (at = Date.now()) => ({
  accountId: env.STREAM_ACCOUNT_ID,
  eventSubscriptionId: "0123456789abcdef0123456789abcdef",
  eventSchemaVersion: 1,
  eventTimestamp: new Date(at).toISOString(),
});

const downloadEvent = (kind: string, video: string, status: string | undefined, at = Date.now(), file = "default.mp4") => ({
  type: `cf.stream.download.${kind}`,
  source: { type: "stream" },
  payload: { videoId: video, url: `${DELIVERY}/${video}/downloads/${file}`, ...(status ? { status, percentComplete: status === "ready" ? 100 : 10 } : {}) },
  metadata: metadata(at),
});

const videoEvent = (kind: string, video: string, fields: Record<string, unknown>, at = Date.now()) => ({
  type: `cf.stream.video_state.${kind}`,
  source: { type: "stream" },
  payload: { id: video, requireSignedURLs: true, meta: { name: "Evented" }, duration: 30, ...fields },
  metadata: metadata(at),
});

/** Hands the messages to the Worker's queue handler as Stream's queue would; their outcomes. */
async function deliver(...bodies: unknown[]) {
  const batch = createMessageBatch(QUEUE, bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue!(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const row = async (video: string, type: "default" | "audio" = "default") => readState(env.DB, video, type);

async function liveEvents(): Promise<void> {
  await env.DB.prepare("DELETE FROM stream_events").run();
  await deliver(downloadEvent("ready", randomUid(), "ready"));
}

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM stream_events").run();
});

describe("download events", () => {
  test("a download in progress becomes ready on its event; a later 'created' never takes it back", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await download(uid, { token })).status).toBe(202);
    expect(await row(uid)).toMatchObject({ status: "inprogress" });

    const now = Date.now();
    const result = await deliver(downloadEvent("ready", uid, "ready", now), downloadEvent("created", uid, "inprogress", now - 5000));
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1"]);
    expect(await row(uid)).toMatchObject({ status: "ready", percent: 100 });
    // The user is served from what the event said: no call reaches Stream for it.
    const before = (await counters(uid)).api;
    expect((await download(uid, { token })).status).toBe(302);
    expect((await counters(uid)).api).toBe(before);
  });

  test("an errored download is answered 502 download-failed; a deleted one is made again on the next request", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await download(uid, { token })).status).toBe(202);
    await deliver(downloadEvent("errored", uid, "error"));
    expect(await row(uid)).toMatchObject({ status: "error" });
    expect((await download(uid, { token })).status).toBe(502);

    await deliver(downloadEvent("deleted", uid, undefined));
    expect(await row(uid)).toBeNull();
    expect((await download(uid, { token })).status).toBe(202);
  });

  test("a download the gateway never asked for makes no row; the audio file's event names the audio row", async () => {
    const untracked = randomUid();
    await deliver(downloadEvent("ready", untracked, "ready"));
    expect(await row(untracked)).toBeNull();

    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await download(uid, { token, query: "?type=audio" })).status).toBe(202);
    await deliver(downloadEvent("ready", uid, "ready", Date.now(), "audio.m4a"));
    expect(await row(uid, "audio")).toMatchObject({ status: "ready" });
  });

  test("malformed messages and other sources' events are acknowledged and change nothing", async () => {
    const result = await deliver(
      { type: "cf.stream.download.ready" },
      { type: "cf.r2.object.create", source: { type: "r2" }, payload: {}, metadata: metadata() },
      downloadEvent("ready", "not-a-uid", "ready"),
      { ...downloadEvent("ready", randomUid(), "ready"), payload: { videoId: randomUid(), url: `${DELIVERY}/x/downloads/other.webm`, status: "ready" } },
      { type: "cf.stream.caption.ready", source: { type: "stream" }, payload: { videoId: randomUid() }, metadata: metadata() },
    );
    expect(result.explicitAcks).toHaveLength(5);
    expect(result.retryMessages).toEqual([]);
  });
});

describe("video events", () => {
  test("video_state.ready clears a not-ready refusal and records the video, so its first download asks Stream only to create it", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, state: "inprogress", downloadSeconds: 60 });
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await download(uid, { token })).status).toBe(409);
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    await deliver(videoEvent("ready", uid, { readyToStream: true, status: { state: "ready", pctComplete: "100.000000", errorReasonCode: "", errorReasonText: "" } }));
    expect(await row(uid)).toMatchObject({ refusal: null });
    const before = (await counters(uid)).byOperation;
    expect((await download(uid, { token })).status).toBe(202);
    const after = (await counters(uid)).byOperation;
    expect(Object.fromEntries(Object.entries(after).map(([operation, n]) => [operation, n - (before[operation] ?? 0)]).filter(([, n]) => n !== 0))).toEqual({ "downloads.create": 1 });
  });

  test("a UID the catalogue knows as ready costs no look-up; one Stream said it does not know is not asked again in the window", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    await deliver(videoEvent("ready", uid, { readyToStream: true, status: { state: "ready" } }));
    const token = await appToken(randomUser(), { videos: "*" });
    expect((await download(uid, { token })).status).toBe(202);
    expect((await counters(uid)).byOperation).toEqual({ "downloads.create": 1 });

    const unknown = randomUid();
    for (let i = 0; i < 3; i++) expect((await download(unknown, { token: await appToken(randomUser(), { videos: "*" }) })).status).toBe(403);
    expect((await counters(unknown)).api).toBe(1);
  });

  test("video_state.errored after downloads were made drops their rows: the next request asks Stream and answers from it", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await download(uid, { token })).status).toBe(302);
    await deliver(videoEvent("errored", uid, { readyToStream: false, status: { state: "error", errorReasonCode: "ERR_NON_VIDEO" } }));
    expect(await row(uid)).toBeNull();
  });
});

describe("while events are live", () => {
  test("a download in progress is not polled (users are told to come back in a second), and its event serves them", async () => {
    await liveEvents();
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    const token = await appToken(randomUser(), { videos: [uid] });
    const first = await download(uid, { token });
    expect(first.status).toBe(202);
    expect(first.headers.get("retry-after")).toBe("1");
    // Well past POLL_INTERVAL_SECONDS (2 s in tests): still no poll.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (let i = 0; i < 3; i++) expect((await download(uid, { token })).status).toBe(202);
    expect((await counters(uid)).byOperation).toEqual({ "videos.get": 1, "downloads.create": 1 });
    await deliver(downloadEvent("ready", uid, "ready"));
    expect((await download(uid, { token })).status).toBe(302);
    expect((await counters(uid)).api).toBe(2);
  });

  test("without events (or once a safety poll caught a finished download no event announced) it is polled every interval", async () => {
    await liveEvents();
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 3 });
    const token = await appToken(randomUser(), { videos: [uid] });
    const ask = async () => {
      // A gateway of its own: isolate memory would remember that events were live.
      const res = await callWorker(envWith({}), `/v1/videos/${uid}/download`, { token });
      await res.arrayBuffer();
      return res;
    };
    expect((await ask()).headers.get("retry-after")).toBe("1");
    // Stream finished, the event never came; the safety poll (60 s, here forced) finds it ready.
    await env.DB.prepare("UPDATE download_state SET polled_at = 0 WHERE video_id = ?1").bind(uid).run();
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect((await ask()).status).toBe(302);

    const { uid: next } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    const res = await callWorker(envWith({}), `/v1/videos/${next}/download`, { token: await appToken(randomUser(), { videos: [next] }) });
    expect(res.headers.get("retry-after")).toBe("2");
  });
});
