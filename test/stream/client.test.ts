// The Stream API client against the emulator: mapping of answers, retries, timeouts and the
// isolate-wide pause after a 429 (docs/design.md). Every test seeds its own video and scopes its
// faults to it, because the emulator is shared with other test files.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, test } from "vitest";
import { parseConfig } from "../../src/config/config";
import { DELIVERIES } from "../../src/deliver/modes";
import { Problem } from "../../src/problems";
import { streamApiBudget } from "../../src/stream/budget";
import { CallGate } from "../../src/stream/call-gate";
import { StreamCallError, streamProblem } from "../../src/stream/errors";
import { CreateRefusedError, StreamClient } from "../../src/stream/client";
import { API_TOKEN, counters, injectFault, removeFaults, seedVideo, sleep } from "../emulator/helpers";

const config = parseConfig(env, DELIVERIES);
const { api, accountId, timeoutMs } = config.stream;
if (api.kind !== "rest") throw new Error("the test project configures STREAM_API_TOKEN");
const client = new StreamClient({ ...api, accountId, timeoutMs }, new CallGate(streamApiBudget(env.STREAM_BUDGET, config, async () => {})));
const UNKNOWN = "0123456789abcdef0123456789abcdef";

const inject = injectFault;
afterEach(removeFaults);

/** The typed failure the client threw, as the problem the gateway answers with (streamProblem). */
async function problemOf(call: Promise<unknown>): Promise<Problem> {
  const error: unknown = await call.then(
    () => new Error("expected the call to fail"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamCallError);
  return streamProblem((error as StreamCallError).failure);
}

function expectUnavailable(problem: Problem, retryAfter: number): void {
  expect({ type: problem.type, status: problem.status, headers: problem.options.headers }).toEqual({
    type: "upstream-unavailable",
    status: 503,
    headers: { "retry-after": String(retryAfter) },
  });
}

describe("answers", () => {
  test("getVideo maps a seeded video's details", async () => {
    const { uid } = await seedVideo({ name: "Quarterly review", requireSignedURLs: true });
    expect(await client.getVideo(uid)).toEqual({
      uid,
      readyToStream: true,
      state: "ready",
      errorReasonCode: null,
      requireSignedURLs: true,
      name: "Quarterly review",
      duration: 4,
    });
  });

  test("getVideo reports a processing video without a name as not ready and unnamed", async () => {
    const { uid } = await seedVideo({ name: undefined, requireSignedURLs: false, state: "inprogress", processingSeconds: 60 });
    expect(await client.getVideo(uid)).toEqual({
      uid,
      readyToStream: false,
      state: "inprogress",
      errorReasonCode: null,
      requireSignedURLs: false,
      name: null,
      // Stream's -1 while it does not know the length yet.
      duration: null,
    });
  });

  test("a video whose processing failed carries Stream's error reason; listVideos includes it, newest first", async () => {
    const { uid } = await seedVideo({ state: "error", errorReasonCode: "ERR_NON_VIDEO" });
    expect(await client.getVideo(uid)).toMatchObject({ state: "error", readyToStream: false, errorReasonCode: "ERR_NON_VIDEO" });
    const listed = await client.listVideos("newest");
    expect(listed.find((v) => v.uid === uid)).toMatchObject({ state: "error", errorReasonCode: "ERR_NON_VIDEO" });
    expect(listed.map((v) => v.uid).indexOf(uid)).toBe(0);
  });

  test("an unknown video is null for getVideo and getDownloads", async () => {
    expect(await client.getVideo(UNKNOWN)).toBeNull();
    expect(await client.getDownloads(UNKNOWN)).toBeNull();
  });

  test("getDownloads lists only the types that were created", async () => {
    const { uid } = await seedVideo({ downloads: { audio: "ready" } });
    expect(await client.getDownloads(uid)).toEqual({ audio: { status: "ready", percentComplete: 100 } });
    const { uid: bare } = await seedVideo();
    expect(await client.getDownloads(bare)).toEqual({});
  });

  test("createDownload creates both types and answers keyed by type", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const inprogress = { status: "inprogress", percentComplete: expect.any(Number) };
    expect(await client.createDownload(uid, "default")).toEqual({ default: inprogress });
    expect(await client.createDownload(uid, "audio")).toEqual({ default: inprogress, audio: inprogress });
    expect(await client.getDownloads(uid)).toEqual({ default: inprogress, audio: inprogress });
    expect((await counters(uid)).byOperation).toEqual({ "downloads.create": 2, "downloads.get": 1 });
  });

  test("any 4xx to createDownload throws CreateRefusedError with its status and codes, for the caller to classify", async () => {
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 60 });
    const error = await client.createDownload(uid, "default").then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CreateRefusedError);
    expect((error as CreateRefusedError).status).toBe(400);
    expect((await counters(uid)).api).toBe(1);
  });
});

test("an invalid uid throws before any request reaches Stream", async () => {
  const { uid } = await seedVideo();
  // The uid-derived values would all be counted against the seeded video if they were sent.
  const invalid = ["keys%3F", "../x", "", uid.toUpperCase(), `${uid}/downloads`, `${uid}?x=1`, `../${uid}`, `${uid}0`];
  for (const value of invalid) {
    await expect(client.getVideo(value)).rejects.toThrow("uid must be 32 lowercase hex characters");
    await expect(client.getDownloads(value)).rejects.toThrow("uid must be 32 lowercase hex characters");
    await expect(client.createDownload(value, "default")).rejects.toThrow("uid must be 32 lowercase hex characters");
  }
  expect(await counters(uid)).toEqual({ api: 0, delivery: 0, byOperation: {} });
});

describe("outages", () => {
  test("a single 500 is retried and the call succeeds", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    await inject({ operation: "downloads.get", video: uid, status: 500, times: 1 });
    expect(await client.getDownloads(uid)).toEqual({ default: { status: "ready", percentComplete: 100 } });
    expect((await counters(uid)).byOperation).toEqual({ "downloads.get": 2 });
  });

  test("two 500s give up after 2 attempts with upstream-unavailable and a retry-after", async () => {
    const { uid } = await seedVideo();
    await inject({ operation: "downloads.create", video: uid, status: 500, times: 2 });
    expectUnavailable(await problemOf(client.createDownload(uid, "default")), 5);
    expect((await counters(uid)).byOperation).toEqual({ "downloads.create": 2 });
  });

  test("three outages in a row open the breaker: Stream is not asked again until its backoff has passed", async () => {
    const { uid } = await seedVideo();
    await inject({ operation: "videos.get", video: uid, status: 502 });
    expectUnavailable(await problemOf(client.getVideo(uid)), 5);
    const open = await problemOf(client.getVideo(uid));
    expect(open.type).toBe("upstream-unavailable");
    for (let i = 0; i < 10; i++) expect((await problemOf(client.getVideo(uid))).type).toBe("upstream-unavailable");
    // Two attempts, then one more that opened it; the next ten never left the gateway.
    expect((await counters(uid)).byOperation).toEqual({ "videos.get": 3 });
    expect(Number(open.options.headers?.["retry-after"])).toBeGreaterThanOrEqual(1);
  });

  test("a Stream slower than the timeout on every call fails within a bounded time", async () => {
    const { uid } = await seedVideo();
    await inject({ operation: "videos.get", video: uid, latencyMs: 800 });
    const started = Date.now();
    expectUnavailable(await problemOf(client.getVideo(uid)), 5);
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await counters(uid)).byOperation).toEqual({ "videos.get": 2 });
  });

  test("a 401 is not retried and names the setting, never the token", async () => {
    const { uid } = await seedVideo();
    await inject({ operation: "videos.get", video: uid, status: 401, code: 10000, message: "Authentication error" });
    const problem = await problemOf(client.getVideo(uid));
    expect({ type: problem.type, body: problem.body("/x") }).toMatchObject({
      type: "misconfigured",
      body: { detail: "Stream refused STREAM_API_TOKEN", setting: "STREAM_API_TOKEN" },
    });
    expect(JSON.stringify([problem.message, problem.body("/x"), problem.options])).not.toContain(API_TOKEN);
    expect((await counters(uid)).byOperation).toEqual({ "videos.get": 1 });
  });
});

// Last on purpose: the pause is isolate-wide, so while it lasts no other test could reach Stream.
test("a 429 pauses every Stream call of the isolate until its retry-after has passed", async () => {
  const { uid } = await seedVideo({ downloads: { default: "ready" } });
  await inject({ operation: "videos.get", video: uid, status: 429, retryAfter: 1, times: 1 });
  expectUnavailable(await problemOf(client.getVideo(uid)), 1);

  expectUnavailable(await problemOf(client.getDownloads(uid)), 1);
  expect((await counters(uid)).api).toBe(1);

  await sleep(1100);
  expect(await client.getDownloads(uid)).toEqual({ default: { status: "ready", percentComplete: 100 } });
  expect((await counters(uid)).byOperation).toEqual({ "videos.get": 1, "downloads.get": 1 });
});
