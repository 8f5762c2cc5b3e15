// The download path against every reading of what Stream leaves undocumented (the real-Stream
// issue): the emulator's quirks switch each choice (flat or keyed create answers, null and missing
// video fields, unknown error codes on create, errored videos that say readyToStream: true, the
// delivery host's status for a download not ready), and the same scenarios must hold under each.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, describe, expect, test } from "vitest";
import worker from "../../src/index";
import { DEFAULT_CRONS } from "../../src/config/wiring-names";
import { api, control, counters, seedVideo, sleep } from "../emulator/helpers";
import { appToken, callWorker, envWith, expectProblem, gateway, randomUser, ticketPath } from "../helpers";

const VARIANTS: [string, Record<string, unknown>][] = [
  ["the documented answers", {}],
  ["a flat create answer", { createResponse: "flat" }],
  ["sparse video fields (null requireSignedURLs, no readyToStream while not ready)", { videoFields: "sparse" }],
  ["an unknown status and code for a create that is refused", { notReadyCreate: { status: 409, code: 99_999 } }],
  ["errored videos that say readyToStream: true", { erroredReadyToStream: true }],
  ["424 for a download that is not ready", { deliveryNotReady: 424 }],
  [
    "all of them at once",
    {
      createResponse: "flat",
      videoFields: "sparse",
      notReadyCreate: { status: 422, code: 10_000 },
      erroredReadyToStream: true,
      deliveryNotReady: 424,
    },
  ],
];

afterAll(() => control("DELETE", "/quirks"));

async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Delivers the video object as the emulator renders it now, signed as Stream signs it. */
async function webhook(testEnv: Env, uid: string): Promise<Response> {
  const body = JSON.stringify((await api<Record<string, unknown>>(`/${uid}`)).body.result);
  const time = Math.floor(Date.now() / 1000);
  const signature = `time=${time},sig1=${await hmacHex(env.STREAM_WEBHOOK_SECRET, `${time}.${body}`)}`;
  return callWorker(testEnv, "/webhooks/stream", { method: "POST", headers: { "content-type": "application/json", "webhook-signature": signature }, body });
}

describe.each(VARIANTS)("with %s", (_, quirks) => {
  test("a ready video without downloads: 202 while Stream makes it, then 302 to a file that downloads, and stream mode's grant URL serves it", async () => {
    await control("DELETE", "/quirks");
    await control("PUT", "/quirks", quirks);
    const { uid } = await seedVideo({ name: "Variant", requireSignedURLs: true, downloadSeconds: 1 });
    const token = await appToken(randomUser(), { videos: [uid] });
    const first = await gateway(`/v1/videos/${uid}/download`, { token });
    expect(first.status).toBe(202);
    await first.arrayBuffer();
    const status = await gateway(`/v1/videos/${uid}/downloads`, { token });
    expect(await status.json()).toMatchObject({ default: { status: "inprogress" }, audio: { status: "none" } });
    await sleep(2200);
    const granted = await gateway(`/v1/videos/${uid}/download`, { token });
    expect(granted.status).toBe(302);
    const file = await fetch(granted.headers.get("location") ?? "");
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("video/mp4");
    await file.arrayBuffer();
    const streamed = await gateway(ticketPath(await gateway(`/v1/videos/${uid}/download?mode=stream`, { token })));
    expect(streamed.status).toBe(200);
    await streamed.arrayBuffer();
  });

  test("a video still processing is 409 video-not-ready; an errored one 502 download-failed; a public one 409 video-not-protected", async () => {
    await control("DELETE", "/quirks");
    await control("PUT", "/quirks", quirks);
    const processing = await seedVideo({ requireSignedURLs: true, state: "inprogress", processingSeconds: 600 });
    const errored = await seedVideo({ requireSignedURLs: true, state: "error" });
    const open = await seedVideo({ requireSignedURLs: false, downloads: { default: "ready" } });
    const token = await appToken(randomUser(), { videos: "*" });
    await expectProblem(await gateway(`/v1/videos/${processing.uid}/download`, { token }), 409, "video-not-ready");
    await expectProblem(await gateway(`/v1/videos/${errored.uid}/download`, { token }), 502, "download-failed");
    await expectProblem(await gateway(`/v1/videos/${open.uid}/download`, { token }), 409, "video-not-protected");
    expect((await counters(errored.uid)).byOperation["downloads.create"] ?? 0).toBe(0);
  });

  test("a video Stream will not make downloads of (a live recording over 4 h) is a clear refusal, remembered once it stood twice", async () => {
    await control("DELETE", "/quirks");
    await control("PUT", "/quirks", quirks);
    const { uid } = await seedVideo({ requireSignedURLs: true, refusesDownloads: true });
    const token = await appToken(randomUser(), { videos: [uid] });
    await expectProblem(await gateway(`/v1/videos/${uid}/download`, { token }), 409, "video-not-downloadable");
    await sleep(2100); // past POLL_INTERVAL_SECONDS (2 in tests): asked once more, in case the 4xx was passing
    await expectProblem(await gateway(`/v1/videos/${uid}/download`, { token }), 409, "video-not-downloadable");
    const calls = (await counters(uid)).api;
    await sleep(2100);
    await expectProblem(await gateway(`/v1/videos/${uid}/download`, { token }), 409, "video-not-downloadable");
    expect((await counters(uid)).api).toBe(calls);
  });

  test("webhooks: a ready video's downloads are prepared; an errored one (whatever readyToStream says) creates nothing", async () => {
    await control("DELETE", "/quirks");
    await control("PUT", "/quirks", quirks);
    const prepare = envWith({ PREPARE_DOWNLOADS: "default,audio" });
    const ready = await seedVideo({ requireSignedURLs: true });
    const errored = await seedVideo({ requireSignedURLs: true, state: "error" });
    const answered = await webhook(prepare, ready.uid);
    expect(answered.status).toBe(200);
    expect((await counters(ready.uid)).byOperation["downloads.create"]).toBe(2);
    expect((await webhook(prepare, errored.uid)).status).toBe(200);
    expect((await counters(errored.uid)).byOperation["downloads.create"] ?? 0).toBe(0);
  });

  test("the demo's video list reads every video", async () => {
    await control("DELETE", "/quirks");
    await control("PUT", "/quirks", quirks);
    const { uid } = await seedVideo({ requireSignedURLs: false, name: "" });
    const res = await callWorker(envWith({ DEMO_ENABLED: "true" }), "/demo/videos");
    expect(res.status).toBe(200);
    const { videos } = (await res.json()) as { videos: { uid: string; requireSignedURLs: boolean }[] };
    expect(videos.find((v) => v.uid === uid)).toMatchObject({ uid, requireSignedURLs: false });
  });
});

test("a JWK whose kid differs from STREAM_KEY_ID (as Stream's only example shows) is accepted; tokens name the key by STREAM_KEY_ID and Stream accepts them", async () => {
  await control("DELETE", "/quirks");
  const jwk = JSON.parse(atob(env.STREAM_KEY_JWK)) as Record<string, unknown>;
  const otherKid = envWith({ STREAM_KEY_JWK: btoa(JSON.stringify({ ...jwk, kid: "0123456789abcdef0123456789abcdef" })) });
  const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
  const res = await callWorker(otherKid, `/v1/videos/${uid}/download`, { token: await appToken(randomUser(), { videos: [uid] }) });
  expect(res.status).toBe(302);
  const token = new URL(res.headers.get("location") ?? "").pathname.split("/")[1]!;
  expect(JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")))).toMatchObject({ kid: env.STREAM_KEY_ID });
  const file = await fetch(res.headers.get("location") ?? "");
  expect(file.status).toBe(200);
  await file.arrayBuffer();
});

test("an IP-locked grant serves its requester over both families even while Stream's delivery host sees yet another address", async () => {
  await control("DELETE", "/quirks");
  await control("PUT", "/quirks", { deliveryClientIp: "192.0.2.200" });
  const locked = envWith({ LOCK_TO_CLIENT_IP: "true" });
  const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
  const token = await appToken(randomUser(), { videos: [uid] });
  const granted = await callWorker(locked, `/v1/videos/${uid}/download`, { token, headers: { "cf-connecting-ip": "2001:db8:9:9::1" } });
  const path = ticketPath(granted);
  for (const ip of ["2001:db8:9:9::1", "203.0.113.50"]) {
    const file = await callWorker(locked, path, { headers: { "cf-connecting-ip": ip } });
    expect(file.status).toBe(200);
    await file.arrayBuffer();
  }
  await control("DELETE", "/quirks");
});

describe("refusals of a create, classified (the second review)", () => {
  test("a single passing 4xx is not remembered for an hour: after the poll interval the download is made", async () => {
    await control("DELETE", "/quirks");
    const { uid } = await seedVideo({ requireSignedURLs: true });
    await control("POST", "/faults", { operation: "downloads.create", video: uid, status: 400, times: 1 });
    const token = await appToken(randomUser(), { videos: [uid] });
    await expectProblem(await gateway(`/v1/videos/${uid}/download`, { token }), 409, "video-not-downloadable");
    await sleep(2100);
    const retried = await gateway(`/v1/videos/${uid}/download`, { token });
    expect([202, 302]).toContain(retried.status);
    await retried.arrayBuffer();
  });

  test("a refusal of one type leaves the other: the status route reports each, and a read-only look keeps the refusal", async () => {
    await control("DELETE", "/quirks");
    const shortTtl = envWith({ READY_TTL_SECONDS: "1" });
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" }, refusesDownloads: "audio" });
    const token = await appToken(randomUser(), { videos: [uid] });
    await expectProblem(await callWorker(shortTtl, `/v1/videos/${uid}/download?type=audio`, { token }), 409, "video-not-downloadable");
    expect((await callWorker(shortTtl, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
    for (let i = 0; i < 2; i++) {
      const status = await callWorker(shortTtl, `/v1/videos/${uid}/downloads`, { token });
      expect(await status.json()).toMatchObject({
        default: { status: "ready" },
        audio: { status: "unavailable", reason: "video-not-downloadable" },
      });
      await sleep(2100); // past READY_TTL_SECONDS and the poll interval
    }
  });

  test("the cron's re-check never prepares a blocked video", async () => {
    const prepare = envWith({ PREPARE_DOWNLOADS: "default", POLL_INTERVAL_SECONDS: "1" });
    const { uid } = await seedVideo({ requireSignedURLs: true });
    await env.DB.prepare("INSERT INTO download_state (video_id, type, status, checked_at, polled_at) VALUES (?1, 'default', 'pending', 0, 0)").bind(uid).run();
    await env.DB.prepare("INSERT INTO blocked_videos (video_id, blocked_at) VALUES (?1, ?2)").bind(uid, Date.now()).run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: DEFAULT_CRONS.recheck }), prepare, ctx);
    await waitOnExecutionContext(ctx);
    expect((await counters(uid)).byOperation["downloads.create"] ?? 0).toBe(0);
  });
});
