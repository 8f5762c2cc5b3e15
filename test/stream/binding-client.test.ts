// The gateway with the Stream Workers binding instead of REST: the emulator's StreamBinding entry
// point (reached through a service binding, as a Worker reaches Stream's) plays the binding. The
// Worker is configured without STREAM_API_TOKEN, and its REST base points nowhere, so any REST
// call would show; the emulator's counters prove none is made.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, test } from "vitest";
import { DELIVERY_BASE, counters, injectFault, removeFaults, seedVideo, sleep } from "../emulator/helpers";
import { appToken, callWorker, expectProblem, randomUid, randomUser } from "../helpers";

// The reference Worker's own options: `bindings: env`, so a STREAM binding in wrangler.toml is
// all it takes. One env object: the gateway is built once per env.
const bindingEnv = { ...env, STREAM_API_TOKEN: "", STREAM_API_BASE: "https://rest.invalid/client/v4", STREAM: env.EMULATED_STREAM } as Env;

afterEach(removeFaults);

async function download(uid: string, testEnv = bindingEnv): Promise<Response> {
  return callWorker(testEnv, `/v1/videos/${uid}/download`, { token: await appToken(randomUser(), { videos: [uid] }) });
}

describe("the Stream binding instead of REST", () => {
  test("the whole download path runs without STREAM_API_TOKEN: generate, progress, ready, a signed URL; no REST call", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true });
    const first = await download(uid);
    expect(first.status).toBe(202);
    let res = first;
    for (let i = 0; i < 30 && res.status === 202; i++) {
      await sleep(200);
      res = await download(uid);
    }
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(location.origin).toBe(DELIVERY_BASE);
    expect(location.pathname).toMatch(/^\/[\w-]+\.[\w-]+\.[\w-]+\/downloads\/default\.mp4$/);
    // The token the gateway minted is one Stream's delivery accepts.
    expect((await fetch(location, { method: "HEAD" })).status).toBe(200);

    const seen = await counters(uid);
    expect(seen.api).toBe(0);
    expect(seen.byOperation["binding.details"]).toBeGreaterThan(0);
    expect(seen.byOperation["binding.downloads.generate"]).toBe(1);
  });

  test("an unknown video is refused like any video the user may not have", async () => {
    await expectProblem(await download(randomUid()), 403, "not-entitled");
  });

  test("the binding's refusals keep their meaning: not ready, too long", async () => {
    const processing = await seedVideo({ requireSignedURLs: true, state: "inprogress", processingSeconds: 60 });
    await expectProblem(await download(processing.uid), 409, "video-not-ready");
    const long = await seedVideo({ requireSignedURLs: true, state: "ready", refusesDownloads: true });
    await expectProblem(await download(long.uid), 409, "video-not-downloadable");
  });

  test("a binding outage is a retryable 503 after one retry; a 429 pauses the calls", async () => {
    const down = await seedVideo({ requireSignedURLs: true });
    await injectFault({ operation: "binding.details", video: down.uid, status: 503 });
    const outage = await download(down.uid);
    await expectProblem(outage, 503, "upstream-unavailable");
    expect((await counters(down.uid)).byOperation["binding.details"]).toBe(2);

    // A gateway of its own: the pause (Stream's 5-minute lockout, since the binding names no wait) would stop the others.
    const pausedEnv = { ...bindingEnv } as Env;
    const limited = await seedVideo({ requireSignedURLs: true });
    const other = await seedVideo({ requireSignedURLs: true });
    await injectFault({ operation: "binding.details", video: limited.uid, status: 429, times: 1 });
    const refused = await download(limited.uid, pausedEnv);
    await expectProblem(refused, 503, "upstream-unavailable");
    expect(refused.headers.get("retry-after")).toBe("300");
    // Every call of that gateway now waits, without asking Stream.
    await expectProblem(await download(other.uid, pausedEnv), 503, "upstream-unavailable");
    expect((await counters(other.uid)).byOperation["binding.details"] ?? 0).toBe(0);
  });

  test("the status route reads both types through the binding", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    const res = await callWorker(bindingEnv, `/v1/videos/${uid}/downloads`, { token: await appToken(randomUser(), { videos: [uid] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, { status: string }>;
    expect([body["default"]?.status, body["audio"]?.status]).toEqual(["ready", "none"]);
    expect((await counters(uid)).api).toBe(0);
  });
});
