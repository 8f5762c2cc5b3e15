// Contract tests for the emulator's Stream API (docs/stream-behaviour.md §1, §2, §4, §5; Cloudflare's API reference).
// Every test seeds its own random video; account-wide state (webhook, rate limiter, faults) is
// shared with other test files, so those tests filter by uid and restore what they change.
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { afterAll, describe, expect, test } from "vitest";
import { authenticate } from "../../emulator/src/api/auth";
import { ACCOUNT, API_BASE, API_TOKEN, DELIVERY_BASE, api, control, counters, seedVideo, sleep, type Envelope, unknownUid } from "./helpers";

const JSON_TYPE = "application/json; charset=utf-8";
const HEX32 = /^[0-9a-f]{32}$/;
const STREAM_PATH = `/accounts/${ACCOUNT}/stream`;

interface Video {
  uid: string;
  readyToStream: boolean;
  thumbnail?: string;
  status: { state: string; pctComplete: string };
  meta: Record<string, unknown>;
  requireSignedURLs: boolean;
  created: string;
}
interface Download {
  status: "inprogress" | "ready" | "error";
  url: string;
  percentComplete: number;
}
type Downloads = Partial<Record<"default" | "audio", Download>>;
interface CreatedKey {
  id: string;
  pem: string;
  jwk: string;
  created: string;
}
interface Subscription {
  notificationUrl: string;
  modified: string;
  secret: string;
}
interface WebhookDelivery {
  video: string;
  url: string;
  signature: string;
  body: string;
}

const failure = (...errors: Envelope["errors"]) => ({ result: null, success: false, errors, messages: [] });
const success = (result: unknown) => ({ result, success: true, errors: [], messages: [] });

/** Cloudflare's answer for an unknown route or object identifier (docs/stream-behaviour.md §5). */
const noRoute = (path: string) =>
  failure(
    { code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` },
    { code: 7000, message: "No route for that URI" },
  );
const badRequest = (message: string) => failure({ code: 10005, message: `Bad Request: ${message}` });
const throttled = failure({ code: 971, message: "Please wait and consider throttling your request speed" });

function expectJson(res: { status: number; headers: Headers; body: unknown }, status: number, body: unknown): void {
  expect({ status: res.status, type: res.headers.get("content-type"), body: res.body }).toEqual({
    status,
    type: JSON_TYPE,
    body,
  });
}

const json = (method: string, value: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

async function raw(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

/** Calls `read` until `done` holds or the deadline passes; returns every value read. */
async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, deadlineMs = 3000): Promise<T[]> {
  const seen: T[] = [];
  const stop = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    seen.push(value);
    if (done(value) || Date.now() > stop) return seen;
    await sleep(100);
  }
}

const getVideo = async (uid: string) => (await api<Video>(`/${uid}`)).body.result;
const getDownloads = async (uid: string) => (await api<Downloads>(`/${uid}/downloads`)).body.result;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("authentication", () => {
  test("a request without credentials answers 400 9106", async () => {
    const { uid } = await seedVideo();
    expectJson(
      await raw(`${API_BASE}/${uid}`, {}),
      400,
      failure({ code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers" }),
    );
  });

  const malformed = failure({
    code: 6003,
    message: "Invalid request headers",
    error_chain: [{ code: 6111, message: "Invalid format for Authorization header" }],
  });

  test.each([
    ["a token that is not token-shaped", "Bearer invalid"],
    ["a double space", `Bearer  ${API_TOKEN}`],
    ["an empty token", "Bearer "],
    ["lower-case bearer", `bearer ${API_TOKEN}`],
    ["the Basic scheme", `Basic ${btoa(`user:${API_TOKEN}`)}`],
  ])("a malformed bearer token (%s) answers 400 6003 with a 6111 chain", async (_name, authorization) => {
    const { uid } = await seedVideo();
    expectJson(await raw(`${API_BASE}/${uid}`, { authorization }), 400, malformed);
  });

  // fetch strips leading and trailing whitespace from header values (and refuses inner newlines),
  // so a stray trailing newline or space cannot reach the emulator over HTTP; check the verdict
  // the emulator would give if one did.
  test.each([
    ["a trailing newline", `Bearer ${API_TOKEN}\n`],
    ["a trailing space", `Bearer ${API_TOKEN} `],
    ["a trailing tab", `Bearer ${API_TOKEN}\t`],
  ])("a bearer token with %s is malformed (6003/6111)", async (_name, value) => {
    const headers = { get: (name: string) => (name === "authorization" ? value : null), has: () => false };
    const denied = authenticate(headers as unknown as Headers, API_TOKEN);
    expect(denied?.status).toBe(400);
    expect(await denied?.json()).toEqual(malformed);
  });

  test("a well-formed but wrong token answers 401 10000", async () => {
    const { uid } = await seedVideo();
    expectJson(
      await raw(`${API_BASE}/${uid}`, { authorization: `Bearer ${"x".repeat(40)}` }),
      401,
      failure({ code: 10000, message: "Authentication error" }),
    );
  });

  test("another 32-hex account answers 403 10000", async () => {
    const { uid } = await seedVideo();
    const url = `https://api.cloudflare.com/client/v4/accounts/${"0".repeat(32)}/stream/${uid}`;
    expectJson(
      await raw(url, { authorization: `Bearer ${API_TOKEN}` }),
      403,
      failure({ code: 10000, message: "Authentication error" }),
    );
  });

  test("an account id that is not hex has no route (404 7003/7000)", async () => {
    const { uid } = await seedVideo();
    const url = `https://api.cloudflare.com/client/v4/accounts/not-an-account/stream/${uid}`;
    expectJson(await raw(url, { authorization: `Bearer ${API_TOKEN}` }), 404, noRoute(`/accounts/not-an-account/stream/${uid}`));
  });
});

describe("unknown routes", () => {
  test("GET /{uid}/downloads/default is no Stream operation and answers 404 7003/7000", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    expectJson(await api(`/${uid}/downloads/default`), 404, noRoute(`${STREAM_PATH}/${uid}/downloads/default`));
  });

  test.each([
    ["a video id that is not 32 hex", "/not-a-video-uid"],
    ["an unknown sub-resource", `/${"a".repeat(32)}/captions-nope`],
    ["an unknown stream resource", "/keys/extra/segments"],
  ])("%s answers 404 7003/7000", async (_name, path) => {
    expectJson(await api(path), 404, noRoute(`${STREAM_PATH}${path}`));
  });

  test("a path outside /accounts answers 404 7003/7000", async () => {
    expectJson(
      await raw("https://api.cloudflare.com/client/v4/zones-nope", { authorization: `Bearer ${API_TOKEN}` }),
      404,
      noRoute("/zones-nope"),
    );
  });

  test.each([
    ["GET", ""],
    ["POST", ""],
    ["GET", "/downloads"],
    ["POST", "/downloads"],
    ["DELETE", "/downloads"],
    ["POST", "/downloads/audio"],
    ["DELETE", "/downloads/audio"],
    ["POST", "/token"],
  ])("%s on an unknown video%s answers 404 7003/7000", async (method, suffix) => {
    const uid = unknownUid();
    const init = method === "POST" ? json(method, {}) : { method };
    expectJson(await api(`/${uid}${suffix}`, init), 404, noRoute(`${STREAM_PATH}/${uid}${suffix}`));
  });
});

describe("videos", () => {
  test("the list is newest first and filters by status", async () => {
    const older = await seedVideo({ name: "older" });
    await sleep(20);
    const newer = await seedVideo({ name: "newer", state: "queued", processingSeconds: 60 });

    const all = await api<Video[]>("");
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ success: true, errors: [], messages: [] });
    const uids = all.body.result.map((v) => v.uid);
    expect(uids.indexOf(newer.uid)).toBeGreaterThanOrEqual(0);
    expect(uids.indexOf(newer.uid)).toBeLessThan(uids.indexOf(older.uid));
    const created = all.body.result.map((v) => Date.parse(v.created));
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const queued = (await api<Video[]>("?status=queued")).body.result;
    expect(queued.map((v) => v.uid)).toContain(newer.uid);
    expect(queued.map((v) => v.uid)).not.toContain(older.uid);
    expect(queued.every((v) => v.status.state === "queued")).toBe(true);
    const ready = (await api<Video[]>("?status=ready")).body.result;
    expect(ready.map((v) => v.uid)).toContain(older.uid);
    expect(ready.map((v) => v.uid)).not.toContain(newer.uid);
  });

  test("details of a ready video carry state, a six-decimal pctComplete string and a thumbnail", async () => {
    const { uid } = await seedVideo({ name: "Details", requireSignedURLs: true });
    const res = await api<Video>(`/${uid}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(JSON_TYPE);
    expect(res.body).toMatchObject({
      success: true,
      errors: [],
      messages: [],
      result: {
        uid,
        readyToStream: true,
        status: { state: "ready", pctComplete: "100.000000" },
        meta: { name: "Details" },
        requireSignedURLs: true,
        thumbnail: `${DELIVERY_BASE}/${uid}/thumbnails/thumbnail.jpg`,
      },
    });
  });

  test("a video still processing has no thumbnail and is not ready to stream", async () => {
    const { uid } = await seedVideo({ state: "queued", processingSeconds: 60, requireSignedURLs: false });
    const video = await getVideo(uid);
    expect(video).toMatchObject({
      uid,
      readyToStream: false,
      status: { state: "queued", pctComplete: "0.000000" },
      requireSignedURLs: false,
    });
    expect(video).not.toHaveProperty("thumbnail");
  });

  test("POST edits requireSignedURLs and meta and answers the full video", async () => {
    const { uid } = await seedVideo({ name: "Before", requireSignedURLs: true });
    const res = await api<Video>(`/${uid}`, json("POST", { uid, requireSignedURLs: false, meta: { name: "After", x: 1 } }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      errors: [],
      messages: [],
      result: { uid, requireSignedURLs: false, meta: { name: "After", x: 1 }, status: { state: "ready" } },
    });
    expect(await getVideo(uid)).toMatchObject({ requireSignedURLs: false, meta: { name: "After", x: 1 } });
  });

  test("an edit whose uid names another video answers 400 and changes nothing", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true });
    expectJson(
      await api(`/${uid}`, json("POST", { uid: unknownUid(), requireSignedURLs: false })),
      400,
      badRequest("uid does not match the video"),
    );
    expect((await getVideo(uid)).requireSignedURLs).toBe(true);
  });

  test("an edit with a malformed JSON body answers 400 6007", async () => {
    const { uid } = await seedVideo();
    expectJson(
      await api(`/${uid}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }),
      400,
      failure({ code: 6007, message: "Malformed JSON in request body" }),
    );
  });
});

describe("processing", () => {
  test("a queued video moves queued → inprogress → ready over its processing time", async () => {
    const { uid, status } = await seedVideo({ state: "queued", processingSeconds: 1.5 });
    expect(status.state).toBe("queued");
    const seen = await poll(() => getVideo(uid), (v) => v.status.state === "ready");
    const states = seen.map((v) => v.status.state).filter((s, i, all) => s !== all[i - 1]);
    expect(states).toEqual(["queued", "inprogress", "ready"]);
    const percents = seen.map((v) => v.status.pctComplete);
    for (const pct of percents) expect(pct).toMatch(/^\d{1,3}\.\d{6}$/);
    const numbers = percents.map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ readyToStream: true, status: { pctComplete: "100.000000" } });
    expect(last.thumbnail).toBe(`${DELIVERY_BASE}/${uid}/thumbnails/thumbnail.jpg`);
  });

  test("a live recording still in progress (the SDK's live-inprogress) is listed by that state, not ready to stream, and its downloads are refused", async () => {
    const { uid } = await seedVideo({ state: "live-inprogress" });
    const video = await getVideo(uid);
    expect(video).toMatchObject({ uid, readyToStream: false, status: { state: "live-inprogress", pctComplete: "0.000000" } });
    expect(video).not.toHaveProperty("thumbnail");
    expect((await api<Video[]>("?status=live-inprogress")).body.result.map((v) => v.uid)).toContain(uid);
    expectJson(await api(`/${uid}/downloads`, { method: "POST" }), 400, badRequest("the video is not ready to stream yet"));
    const other = await seedVideo({ state: "queued", processingSeconds: 600 });
    await control("POST", `/videos/${other.uid}/state`, { state: "live-inprogress" });
    expect((await getVideo(other.uid)).status.state).toBe("live-inprogress");
  });

  test("advance moves a video to its next stage at once", async () => {
    const { uid } = await seedVideo({ state: "queued", processingSeconds: 600 });
    expect((await control<Video>("POST", `/videos/${uid}/advance`)).status.state).toBe("inprogress");
    expect((await getVideo(uid)).status.state).toBe("inprogress");
    expect((await control<Video>("POST", `/videos/${uid}/advance`)).status.state).toBe("ready");
    expect(await getVideo(uid)).toMatchObject({ readyToStream: true, status: { state: "ready" } });
  });

  test("state sets any state at once", async () => {
    const { uid } = await seedVideo({ state: "queued", processingSeconds: 600 });
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    expect(await getVideo(uid)).toMatchObject({ readyToStream: true, status: { state: "ready" } });
    await control("POST", `/videos/${uid}/state`, { state: "error" });
    expect(await getVideo(uid)).toMatchObject({
      readyToStream: false,
      status: { state: "error", errorReasonCode: "ERR_MALFORMED_VIDEO" },
    });
  });
});

describe("downloads", () => {
  const url = (uid: string, file: string) => `${DELIVERY_BASE}/${uid}/downloads/${file}`;

  test("creating a download of a video that is not ready answers 400 10005", async () => {
    const { uid } = await seedVideo({ state: "queued", processingSeconds: 600 });
    for (const path of ["/downloads", "/downloads/default", "/downloads/audio"]) {
      expectJson(await api(`/${uid}${path}`, { method: "POST" }), 400, badRequest("the video is not ready to stream yet"));
    }
    expectJson(await api(`/${uid}/downloads`), 200, success({}));
  });

  test("creating a download of an errored video answers 400 10005", async () => {
    const { uid } = await seedVideo({ state: "error" });
    expectJson(await api(`/${uid}/downloads`, { method: "POST" }), 400, badRequest("the video is not ready to stream yet"));
  });

  test("POST /downloads creates the default download, keyed by type", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    expectJson(await api(`/${uid}/downloads`), 200, success({}));
    expectJson(
      await api(`/${uid}/downloads`, { method: "POST" }),
      200,
      success({ default: { status: "inprogress", url: url(uid, "default.mp4"), percentComplete: 0 } }),
    );
  });

  test("POST /downloads/audio creates only the audio download, then both are listed", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    expectJson(
      await api(`/${uid}/downloads/audio`, { method: "POST" }),
      200,
      success({ audio: { status: "inprogress", url: url(uid, "audio.m4a"), percentComplete: 0 } }),
    );
    const both = await api<Downloads>(`/${uid}/downloads/default`, { method: "POST" });
    expect(both.status).toBe(200);
    expect(Object.keys(both.body.result).sort()).toEqual(["audio", "default"]);
    expect(both.body.result.default).toEqual({ status: "inprogress", url: url(uid, "default.mp4"), percentComplete: 0 });
    expect(both.body.result.audio).toMatchObject({ status: "inprogress", url: url(uid, "audio.m4a") });
  });

  test("percentComplete rises over successive GETs and the download ends ready at 100", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 1 });
    await api(`/${uid}/downloads`, { method: "POST" });
    const seen = await poll(() => getDownloads(uid), (d) => d.default?.status !== "inprogress");
    const percents = seen.map((d) => d.default!.percentComplete);
    for (const pct of percents) expect(typeof pct).toBe("number");
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    expect(seen.at(-1)).toEqual({ default: { status: "ready", url: url(uid, "default.mp4"), percentComplete: 100 } });
  });

  test("POST again is idempotent: it neither restarts nor duplicates a download", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    const ready = success({ default: { status: "ready", url: url(uid, "default.mp4"), percentComplete: 100 } });
    expectJson(await api(`/${uid}/downloads`, { method: "POST" }), 200, ready);
    expectJson(await api(`/${uid}/downloads/default`, { method: "POST" }), 200, ready);
    expectJson(await api(`/${uid}/downloads`), 200, ready);
  });

  test("a download seeded to fail ends in status error", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 1, downloadOutcome: { default: "error" } });
    await api(`/${uid}/downloads`, { method: "POST" });
    const seen = await poll(() => getDownloads(uid), (d) => d.default?.status !== "inprogress");
    expect(seen.at(-1)?.default).toMatchObject({ status: "error", url: url(uid, "default.mp4") });
  });

  test("DELETE /downloads removes the default download and DELETE /downloads/audio the audio one", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready", audio: "ready" } });
    expectJson(await api(`/${uid}/downloads`, { method: "DELETE" }), 200, success("Deleted"));
    expectJson(
      await api(`/${uid}/downloads`),
      200,
      success({ audio: { status: "ready", url: url(uid, "audio.m4a"), percentComplete: 100 } }),
    );
    expectJson(await api(`/${uid}/downloads/audio`, { method: "DELETE" }), 200, success("Deleted"));
    expectJson(await api(`/${uid}/downloads`), 200, success({}));
  });

  test("deleting a download that does not exist answers 404 7003/7000", async () => {
    const { uid } = await seedVideo();
    expectJson(await api(`/${uid}/downloads`, { method: "DELETE" }), 404, noRoute(`${STREAM_PATH}/${uid}/downloads`));
    expectJson(
      await api(`/${uid}/downloads/audio`, { method: "DELETE" }),
      404,
      noRoute(`${STREAM_PATH}/${uid}/downloads/audio`),
    );
  });

  test("a download type other than default and audio answers 404 7003/7000", async () => {
    const { uid } = await seedVideo();
    for (const method of ["POST", "DELETE"]) {
      expectJson(await api(`/${uid}/downloads/hd`, { method }), 404, noRoute(`${STREAM_PATH}/${uid}/downloads/hd`));
    }
  });
});

describe("signing keys", () => {
  test("POST /keys returns a base64 PKCS#1 PEM and a base64 JWK that imports into WebCrypto and signs", async () => {
    const before = Date.now();
    const res = await api<CreatedKey>("/keys", { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, errors: [], messages: [] });
    const key = res.body.result;
    expect(Object.keys(key).sort()).toEqual(["created", "id", "jwk", "pem"]);
    expect(key.id).toMatch(HEX32);
    expect(key.created).toBe(new Date(Date.parse(key.created)).toISOString());
    expect(Math.abs(Date.parse(key.created) - before)).toBeLessThan(10_000);

    const pem = atob(key.pem);
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END RSA PRIVATE KEY-----\n?$/);

    const jwk = JSON.parse(atob(key.jwk)) as JsonWebKey & { kid: string };
    expect(Object.keys(jwk).sort()).toEqual(["alg", "d", "dp", "dq", "e", "kid", "kty", "n", "p", "q", "qi", "use"]);
    expect(jwk).toMatchObject({ use: "sig", kty: "RSA", kid: key.id, alg: "RS256" });

    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const privateKey = await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]);
    const data = new TextEncoder().encode("header.payload");
    const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, data);
    const publicKey = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e }, algorithm, false, ["verify"]);
    expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", publicKey, signature, data)).toBe(true);
  });

  test("GET /keys lists {id, created} without private material; DELETE revokes and removes the key", async () => {
    const created = (await api<CreatedKey>("/keys", { method: "POST" })).body.result;
    const listed = await api<Record<string, unknown>[]>("/keys");
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ success: true, errors: [], messages: [] });
    expect(listed.body.result).toContainEqual({ id: created.id, created: created.created });
    for (const entry of listed.body.result) expect(Object.keys(entry).sort()).toEqual(["created", "id"]);

    expectJson(await api(`/keys/${created.id}`, { method: "DELETE" }), 200, success("Revoked"));
    const after = (await api<{ id: string }[]>("/keys")).body.result;
    expect(after.map((k) => k.id)).not.toContain(created.id);
    expectJson(await api(`/keys/${created.id}`, { method: "DELETE" }), 404, noRoute(`${STREAM_PATH}/keys/${created.id}`));
  });

  test("deleting a key that never existed answers 404 7003/7000", async () => {
    const id = unknownUid();
    expectJson(await api(`/keys/${id}`, { method: "DELETE" }), 404, noRoute(`${STREAM_PATH}/keys/${id}`));
  });
});

describe("webhook", () => {
  // One subscription per account, shared with other test files: every delivery is matched by uid
  // and by this file's own notification URL, and the subscription is removed at the end.
  // In tests the emulator delivers through a service binding to the gateway, whatever the host:
  // its receiver reads (and, lacking this subscription's secret, refuses) every call.
  const hookUrl = () => `https://gateway.test/webhooks/stream?hook=${unknownUid()}`;
  afterAll(async () => {
    await api("/webhook", { method: "DELETE" });
  });

  async function subscribe(): Promise<Subscription> {
    const res = await api<Subscription>("/webhook", json("PUT", { notificationUrl: hookUrl() }));
    expect(res.status).toBe(200);
    return res.body.result;
  }

  async function deliveryFor(uid: string): Promise<WebhookDelivery | undefined> {
    const seen = await poll(
      async () => (await control<WebhookDelivery[]>("GET", "/webhook-deliveries")).find((d) => d.video === uid),
      (d) => d !== undefined,
    );
    return seen.at(-1);
  }

  async function expectSigned(delivery: WebhookDelivery, secret: string): Promise<void> {
    const match = /^time=(\d+),sig1=([0-9a-f]{64})$/.exec(delivery.signature);
    expect(match, delivery.signature).not.toBeNull();
    const [, time, sig1] = match!;
    expect(Math.abs(Number(time) - nowSeconds())).toBeLessThan(10);
    const encoder = new TextEncoder();
    const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${time}.${delivery.body}`));
    const hex = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(sig1).toBe(hex);
  }

  test("PUT subscribes (notificationUrl or notification_url), GET returns it, DELETE removes it", async () => {
    const first = hookUrl();
    const put = await api<Subscription>("/webhook", json("PUT", { notificationUrl: first }));
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ success: true, errors: [], messages: [] });
    expect(Object.keys(put.body.result).sort()).toEqual(["modified", "notificationUrl", "secret"]);
    expect(put.body.result.notificationUrl).toBe(first);
    expect(put.body.result.secret).toMatch(/^[0-9a-f]{16,}$/);
    expect(put.body.result.modified).toBe(new Date(Date.parse(put.body.result.modified)).toISOString());
    expectJson(await api("/webhook"), 200, success(put.body.result));

    const second = hookUrl();
    const snake = await api<Subscription>("/webhook", json("PUT", { notification_url: second }));
    expect(snake.status).toBe(200);
    expect(snake.body.result.notificationUrl).toBe(second);
    expectJson(await api("/webhook"), 200, success(snake.body.result));

    expectJson(await api("/webhook", { method: "DELETE" }), 200, success("Deleted"));
    expectJson(await api("/webhook"), 404, noRoute(`${STREAM_PATH}/webhook`));
  });

  test.each([
    ["a URL without a scheme", { notificationUrl: "example.com/hook" }],
    ["an ftp URL", { notificationUrl: "ftp://example.com/hook" }],
    ["a non-string", { notificationUrl: 42 }],
    ["no URL at all", {}],
  ])("PUT with %s answers 400", async (_name, body) => {
    expectJson(
      await api("/webhook", json("PUT", body)),
      400,
      badRequest("notificationUrl must be a URL that includes http:// or https://"),
    );
  });

  test("when processing finishes, the video object is POSTed signed with the subscription secret", async () => {
    const { notificationUrl, secret } = await subscribe();
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 0.5 });
    const delivery = await deliveryFor(uid);
    expect(delivery, "no webhook delivery within 3 s").toBeDefined();
    expect(delivery!.url).toBe(notificationUrl);
    await expectSigned(delivery!, secret);
    const body = JSON.parse(delivery!.body) as Video;
    expect(body).toMatchObject({ uid, readyToStream: true, status: { state: "ready", pctComplete: "100.000000" } });
  });

  test("a video set to error fires one webhook with state error", async () => {
    const { notificationUrl, secret } = await subscribe();
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600 });
    await control("POST", `/videos/${uid}/state`, { state: "error" });
    const delivery = await deliveryFor(uid);
    expect(delivery, "no webhook delivery within 3 s").toBeDefined();
    expect(delivery!.url).toBe(notificationUrl);
    await expectSigned(delivery!, secret);
    expect(JSON.parse(delivery!.body)).toMatchObject({
      uid,
      readyToStream: false,
      status: { state: "error", errorReasonCode: "ERR_MALFORMED_VIDEO" },
    });
    await sleep(300);
    const all = await control<WebhookDelivery[]>("GET", "/webhook-deliveries");
    expect(all.filter((d) => d.video === uid)).toHaveLength(1);
  });
});

describe("token endpoint", () => {
  test("the default token is an RS256 JWT for the video, valid ±1 h, without download access", async () => {
    const { uid } = await seedVideo();
    const res = await api<{ token: string }>(`/${uid}/token`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, errors: [], messages: [] });
    expect(Object.keys(res.body.result)).toEqual(["token"]);
    const header = decodeProtectedHeader(res.body.result.token);
    expect(header).toEqual({ alg: "RS256", kid: expect.stringMatching(HEX32) });
    const claims = decodeJwt(res.body.result.token);
    expect(claims.sub).toBe(uid);
    expect(claims.kid).toBe(header.kid);
    expect(Math.abs(claims.exp! - (nowSeconds() + 3600))).toBeLessThan(10);
    expect(Math.abs(claims.nbf! - (nowSeconds() - 3600))).toBeLessThan(10);
    expect(claims).not.toHaveProperty("downloadable");
    expect(claims).not.toHaveProperty("accessRules");
  });

  test("downloadable, exp and accessRules from the body are carried into the claims", async () => {
    const { uid } = await seedVideo();
    const exp = nowSeconds() + 7200;
    const accessRules = [
      { type: "ip.geoip.country", action: "allow", country: ["GB"] },
      { type: "any", action: "block" },
    ];
    const res = await api<{ token: string }>(`/${uid}/token`, json("POST", { downloadable: true, exp, accessRules }));
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.result.token)).toMatchObject({ sub: uid, exp, downloadable: true, accessRules });
  });

  test("an exp more than 24 hours ahead answers 400", async () => {
    const { uid } = await seedVideo();
    expectJson(
      await api(`/${uid}/token`, json("POST", { exp: nowSeconds() + 24 * 3600 + 600 })),
      400,
      badRequest("exp cannot be more than 24 hours in the future"),
    );
  });

  test.each([
    ["id without pem", { id: "a".repeat(32) }],
    ["pem without id", { pem: btoa("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n") }],
  ])("%s answers 400", async (_name, body) => {
    const { uid } = await seedVideo();
    expectJson(await api(`/${uid}/token`, json("POST", body)), 400, badRequest("id and pem must be sent together"));
  });

  test("more than five accessRules answer 400", async () => {
    const { uid } = await seedVideo();
    const accessRules = Array.from({ length: 6 }, () => ({ type: "any", action: "allow" }));
    expectJson(
      await api(`/${uid}/token`, json("POST", { accessRules })),
      400,
      badRequest("accessRules allows at most 5 rules"),
    );
  });

  test("a token signed with our own key (id + pem) carries its kid and verifies against the key's JWK", async () => {
    const { uid } = await seedVideo();
    const key = (await api<CreatedKey>("/keys", { method: "POST" })).body.result;
    try {
      const res = await api<{ token: string }>(`/${uid}/token`, json("POST", { id: key.id, pem: key.pem, downloadable: true }));
      expect(res.status).toBe(200);
      const { token } = res.body.result;
      expect(decodeProtectedHeader(token)).toEqual({ alg: "RS256", kid: key.id });
      const { n, e } = JSON.parse(atob(key.jwk)) as JsonWebKey;
      const publicKey = await importJWK({ kty: "RSA", n, e }, "RS256");
      const { payload } = await jwtVerify(token, publicKey, { algorithms: ["RS256"] });
      expect(payload).toMatchObject({ sub: uid, kid: key.id, downloadable: true });
    } finally {
      await api(`/keys/${key.id}`, { method: "DELETE" });
    }
  });
});

describe("rate limit", () => {
  test("past the limit the API answers 429 971 with retry-after until the lockout ends", async () => {
    const { uid } = await seedVideo();
    await control("PUT", "/rate-limit", { limit: 3, windowSeconds: 60, lockoutSeconds: 7 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await api(`/${uid}`)).status);
      const limited = await api(`/${uid}`);
      expect(statuses).toEqual([200, 200, 200]);
      expectJson(limited, 429, throttled);
      expect(limited.headers.get("retry-after")).toBe("7");
    } finally {
      await control("PUT", "/rate-limit", { limit: 1200, windowSeconds: 300, lockoutSeconds: 300 });
    }
  });
});

describe("faults", () => {
  async function withFault<T>(fault: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
    const { id } = await control<{ id: number }>("POST", "/faults", fault);
    try {
      return await run();
    } finally {
      await control("DELETE", `/faults/${id}`);
    }
  }

  test("a 500 fault for one call answers an error envelope once, then the real answer", async () => {
    const { uid } = await seedVideo();
    await withFault({ operation: "downloads.get", video: uid, status: 500, times: 1 }, async () => {
      expectJson(await api(`/${uid}/downloads`), 500, failure({ code: 10002, message: "Injected fault" }));
      expectJson(await api(`/${uid}/downloads`), 200, success({}));
    });
  });

  test("a 429 fault answers 971 with its retry-after", async () => {
    const { uid } = await seedVideo();
    await withFault({ operation: "downloads.get", video: uid, status: 429, retryAfter: 9, times: 1 }, async () => {
      const res = await api(`/${uid}/downloads`);
      expectJson(res, 429, throttled);
      expect(res.headers.get("retry-after")).toBe("9");
    });
  });

  test("a latency fault delays the answer by at least its latency", async () => {
    const { uid } = await seedVideo();
    await withFault({ operation: "downloads.get", video: uid, latencyMs: 300, times: 1 }, async () => {
      const start = Date.now();
      const res = await api(`/${uid}/downloads`);
      expect(Date.now() - start).toBeGreaterThanOrEqual(300);
      expectJson(res, 200, success({}));
    });
  });

  test("a fault scoped to one video does not hit another", async () => {
    const target = await seedVideo();
    const other = await seedVideo();
    await withFault({ operation: "downloads.get", video: target.uid, status: 500 }, async () => {
      expectJson(await api(`/${other.uid}/downloads`), 200, success({}));
      expect((await api(`/${target.uid}/downloads`)).status).toBe(500);
      expect((await api(`/${target.uid}/downloads`)).status).toBe(500);
    });
  });
});

describe("counters", () => {
  test("counters count each API operation per video", async () => {
    const { uid } = await seedVideo();
    await api(`/${uid}/downloads`);
    await api(`/${uid}/downloads`, { method: "POST" });
    await api(`/${uid}/downloads`);
    expect(await counters(uid)).toEqual({
      api: 3,
      delivery: 0,
      byOperation: { "downloads.get": 2, "downloads.create": 1 },
    });
  });
});
