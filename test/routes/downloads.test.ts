// End to end through the gateway and the Stream emulator (docs/design.md, §4–§7): identify → entitle →
// ensure → mint → deliver → record, with the emulator's counters and faults as witnesses. Every
// test seeds its own video and uses fresh users; faults are scoped to the test's video because
// the emulator is shared with other test files.
import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { afterEach, describe, expect, test } from "vitest";
import { control, counters, DELIVERY_BASE, seedVideo, sleep, injectFault, removeFaults } from "../emulator/helpers";
import { admin, appToken, clearOfLimiterRollover, LIMITER_BURST_TIMEOUT_MS, callWorker, download, drainAudit, envWith, expectProblem, gateway, randomUser, ticketPath } from "../helpers";

const READY = { downloads: { default: "ready", audio: "ready" } };
const POLL_INTERVAL_MS = 2000;
const ASCII = /^[A-Za-z0-9_-]+$/;

const anyone = () => appToken(randomUser(), { videos: "*" });

const inject = injectFault;
afterEach(removeFaults);

function location(res: Response): URL {
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

/** What the browser does with the 302: fetch the target from Stream's delivery host. */
function follow(res: Response, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(location(res), { headers });
}

async function expectMedia(res: Response, contentType: string): Promise<Uint8Array> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe(contentType);
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(new TextDecoder().decode(bytes.slice(4, 8))).toBe("ftyp");
  return bytes;
}

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

describe("end to end", () => {
  test("the redirect target, fetched from Stream's delivery host, is the MP4", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(uid);
    expect(res.status).toBe(302);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const target = location(res);
    expect(target.origin).toBe(DELIVERY_BASE);
    expect(target.pathname).toMatch(/^\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\/downloads\/default\.mp4$/);
    await expectMedia(await follow(res), "video/mp4");
  });

  test("type=audio redirects to audio.m4a, served as audio/mp4", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(uid, { query: "?type=audio" });
    expect(location(res).pathname).toMatch(/\/downloads\/audio\.m4a$/);
    await expectMedia(await follow(res), "audio/mp4");
  });

  test("?filename= reaches Stream as its filename parameter, reduced to [A-Za-z0-9_-]", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(uid, { query: `?filename=${encodeURIComponent("summer-trip 2024!.mp4")}` });
    expect(location(res).searchParams.get("filename")).toBe("summer-trip_2024");
    const file = await follow(res);
    expect(file.headers.get("content-disposition")).toBe('attachment; filename="summer-trip_2024.mp4"');
    await expectMedia(file, "video/mp4");
  });

  test("mode=stream answers 303 to the grant's own URL, which serves the bytes with Content-Disposition (filename and filename*)", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(uid, { query: `?mode=stream&filename=${encodeURIComponent("Crème brûlée")}` });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const file = await gateway(ticketPath(res));
    expect(file.headers.get("content-disposition")).toBe(
      `attachment; filename="Creme brulee.mp4"; filename*=UTF-8''${encodeURIComponent("Crème brûlée.mp4")}`,
    );
    const bytes = await expectMedia(file, "video/mp4");
    expect(file.headers.get("content-length")).toBe(String(bytes.length));
  });

  test("the grant's URL passes Range through: 206 with Content-Range, 416 when unsatisfiable", async () => {
    const { uid } = await seedVideo(READY);
    const path = ticketPath(await download(uid, { query: "?mode=stream" }));
    const size = (await (await gateway(path)).arrayBuffer()).byteLength;

    const partial = await gateway(path, { headers: { range: "bytes=0-99" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 0-99/${size}`);
    expect(partial.headers.get("content-disposition")).toMatch(/^attachment; /);
    const head = new Uint8Array(await partial.arrayBuffer());
    expect(head.length).toBe(100);
    expect(new TextDecoder().decode(head.slice(4, 8))).toBe("ftyp");

    const beyond = await gateway(path, { headers: { range: `bytes=${size + 10}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${size}`);
    await beyond.arrayBuffer();
  });

  test("POST download-url returns {url, expiresAt}, and the url downloads", async () => {
    const { uid } = await seedVideo(READY);
    const res = await gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token: await anyone() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as { url: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "url"]);
    expect(new URL(body.url).origin).toBe(DELIVERY_BASE);
    const expiresIn = Date.parse(body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    await expectMedia(await fetch(body.url), "video/mp4");
  });
});

describe("entitlement", () => {
  test("a JWT claim listing the video entitles; one listing other videos does not", async () => {
    const { uid } = await seedVideo(READY);
    const { uid: other } = await seedVideo(READY);
    expect((await download(uid, { token: await appToken(randomUser(), { videos: [other, uid] }) })).status).toBe(302);
    const refused = await download(uid, { token: await appToken(randomUser(), { videos: [other] }) });
    await expectProblem(refused, 403, "not-entitled", `/v1/videos/${uid}/download`);
  });

  test('the claim "*" entitles to every video', async () => {
    const { uid } = await seedVideo(READY);
    expect((await download(uid, { token: await appToken(randomUser(), { videos: "*" }) })).status).toBe(302);
  });

  test("a D1 grant from the admin API entitles; one that expired does not", async () => {
    const { uid } = await seedVideo(READY);
    const [granted, lapsed] = [randomUser(), randomUser()];
    const put = await admin("PUT", "/v1/admin/grants", {
      grants: [
        { user: granted, video: uid },
        { user: lapsed, video: uid, expiresAt: new Date(Date.now() - 60_000).toISOString() },
      ],
    });
    expect(put.status).toBe(200);
    expect((await download(uid, { token: await appToken(granted) })).status).toBe(302);
    await expectProblem(await download(uid, { token: await appToken(lapsed) }), 403, "not-entitled");
  });

  test("no entitlement: 403 not-entitled as problem+json with type, title, status, detail, instance", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(uid, { token: await appToken(randomUser()) });
    const body = await expectProblem(res, 403, "not-entitled", `/v1/videos/${uid}/download`);
    expect(body.title).not.toBe("");
    expect(body.detail).not.toBe("");
  });

  test('an unknown video, even with the claim "*", looks exactly like not entitled', async () => {
    const { uid } = await seedVideo(READY);
    const unknown = crypto.randomUUID().replace(/-/g, "");
    const notEntitled = await expectProblem(await download(uid, { token: await appToken(randomUser()) }), 403, "not-entitled");
    const missing = await expectProblem(await download(unknown), 403, "not-entitled");
    expect({ ...missing, instance: undefined }).toEqual({ ...notEntitled, instance: undefined });
  });

  test("a blocked video is refused to a claim holder; unblocking restores it", async () => {
    const { uid } = await seedVideo(READY);
    const token = await anyone();
    expect((await download(uid, { token })).status).toBe(302);
    expect((await admin("POST", `/v1/admin/videos/${uid}/block`)).status).toBe(200);
    await expectProblem(await download(uid, { token }), 403, "not-entitled");
    expect((await admin("POST", `/v1/admin/videos/${uid}/unblock`)).status).toBe(200);
    expect((await download(uid, { token })).status).toBe(302);
  });
});

describe("ensure the download exists", () => {
  test("a video without downloads: 202 with progress and Retry-After, and the download is created at Stream", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const res = await download(uid);
    expect(res.status).toBe(202);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(await res.json()).toEqual({ status: "inprogress", percentComplete: expect.any(Number), retryAfter });
    expect((await counters(uid)).byOperation["downloads.create"]).toBe(1);
  });

  test("once Stream has finished the download, the next request after the poll interval redirects", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const token = await anyone();
    expect((await download(uid, { token })).status).toBe(202);
    await control("POST", `/videos/${uid}/downloads/default/finish`);
    await sleep(POLL_INTERVAL_MS + 200);
    const res = await download(uid, { token });
    expect(res.status).toBe(302);
    await expectMedia(await follow(res), "video/mp4");
  });

  test("a browser waiting for a download gets a 202 page with a progress bar that refreshes itself", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const res = await download(uid, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    const html = await res.text();
    expect(html).toContain("<progress");
    expect(html).toMatch(/<meta http-equiv="refresh" content="\d+/);
    expect(html).not.toContain("<script");
  });

  test("a video still processing: 409 video-not-ready", async () => {
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 60 });
    await expectProblem(await download(uid), 409, "video-not-ready");
  });

  test("a video that does not require signed URLs: 409 video-not-protected", async () => {
    const { uid } = await seedVideo({ ...READY, requireSignedURLs: false });
    await expectProblem(await download(uid), 409, "video-not-protected");
  });

  test("a download that ends in error at Stream: eventually 502 download-failed", async () => {
    const { uid } = await seedVideo({ downloadOutcome: { default: "error" }, downloadSeconds: 0.2 });
    const token = await anyone();
    let res = await download(uid, { token });
    for (let attempt = 0; res.status === 202 && attempt < 2; attempt++) {
      await res.arrayBuffer();
      await sleep(POLL_INTERVAL_MS + 200);
      res = await download(uid, { token });
    }
    await expectProblem(res, 502, "download-failed");
  }, 15_000);

  test("the second download of a ready video makes zero Stream API calls", async () => {
    const { uid } = await seedVideo(READY);
    expect((await download(uid)).status).toBe(302);
    const before = await counters(uid);
    const second = await download(uid);
    expect(second.status).toBe(302);
    expect((await counters(uid)).api).toBe(before.api);
  });

  // What is asserted, exactly: over a burst of 50 concurrent first requests, each Stream API
  // operation is called at most once (the poll lease), so at most 3 calls; a second burst inside
  // the poll interval makes none; a third burst after the interval makes exactly one downloads.get.
  test("50 concurrent users waiting on one download share the poll lease", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const burst = async () => {
      const responses = await Promise.all(Array.from({ length: 50 }, () => download(uid)));
      for (const res of responses) await res.arrayBuffer();
      return responses.map((r) => r.status);
    };

    expect(new Set(await burst())).toEqual(new Set([202]));
    const first = await counters(uid);
    for (const op of ["videos.get", "downloads.get", "downloads.create"]) expect(first.byOperation[op] ?? 0).toBeLessThanOrEqual(1);
    expect(first.byOperation["downloads.create"]).toBe(1);

    expect(new Set(await burst())).toEqual(new Set([202]));
    expect((await counters(uid)).api).toBe(first.api);

    await sleep(POLL_INTERVAL_MS + 200);
    expect(new Set(await burst())).toEqual(new Set([202]));
    const third = await counters(uid);
    expect(third.api - first.api).toBe(1);
    expect((third.byOperation["downloads.get"] ?? 0) - (first.byOperation["downloads.get"] ?? 0)).toBe(1);
  }, 20_000);

  // The stricter bound: first contact is the video check plus ONE downloads call (Stream's
  // create is idempotent and answers like GET, so a GET before it is not needed).
  test("first contact with a new download costs at most 2 Stream API calls, however many users ask", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => download(uid)));
    for (const res of responses) await res.arrayBuffer();
    expect((await counters(uid)).api).toBeLessThanOrEqual(2);
  });
});

describe("Stream faults", () => {
  test("Stream answering 500 to every video lookup: 503 upstream-unavailable with Retry-After, never 500", async () => {
    const { uid } = await seedVideo(READY);
    await inject({ operation: "videos.get", video: uid, status: 500 });
    const token = await anyone();
    const res = await download(uid, { token });
    await expectProblem(res, 503, "upstream-unavailable");
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    for (let i = 0; i < 3; i++) {
      const again = await download(uid, { token });
      expect(again.status).not.toBe(500);
      await again.arrayBuffer();
    }
  });

  test("Stream slower than STREAM_TIMEOUT_MS: 503 within a few seconds, no hang", async () => {
    const { uid } = await seedVideo(READY);
    await inject({ operation: "videos.get", video: uid, latencyMs: 800 });
    const started = Date.now();
    const res = await download(uid);
    await expectProblem(res, 503, "upstream-unavailable");
    expect(Date.now() - started).toBeLessThan(4000);
  }, 10_000);
});

describe("identify", () => {
  test("no token: 401 unauthenticated with WWW-Authenticate", async () => {
    const { uid } = await seedVideo(READY);
    const res = await gateway(`/v1/videos/${uid}/download`);
    await expectProblem(res, 401, "unauthenticated");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="/);
  });

  test("an alg:none token, an expired token and a token without exp are refused with 401", async () => {
    const { uid } = await seedVideo(READY);
    const now = Math.floor(Date.now() / 1000);
    const sub = randomUser();
    const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub, exp: now + 600, videos: "*" })}.`;
    const expired = await appToken(sub, { videos: "*" }, -120);
    const noExp = await new SignJWT({ sub, videos: "*" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(now)
      .sign(new TextEncoder().encode(env.AUTH_HS256_SECRET));
    for (const token of [unsigned, expired, noExp]) {
      const res = await download(uid, { token });
      await expectProblem(res, 401, "unauthenticated");
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  test("the session cookie works on GET download and GET downloads status", async () => {
    const { uid } = await seedVideo(READY);
    const cookie = `theme=dark; sdg_session=${await anyone()}`;
    expect((await gateway(`/v1/videos/${uid}/download`, { headers: { cookie } })).status).toBe(302);
    const status = await gateway(`/v1/videos/${uid}/downloads`, { headers: { cookie } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ default: { status: "ready" } });
  });

  test("the session cookie is ignored on POST download-url (CSRF): 401 without a bearer header", async () => {
    const { uid } = await seedVideo(READY);
    const res = await gateway(`/v1/videos/${uid}/download-url`, {
      method: "POST",
      headers: { cookie: `sdg_session=${await anyone()}` },
    });
    await expectProblem(res, 401, "unauthenticated");
  });
});

describe(":uid injection", () => {
  const INVALID = [
    "keys%3F",
    "..%2Fkeys",
    "C0FFEE00000000000000000000000001",
    "c0ffee0000000000000000000000001",
    "c0ffee000000000000000000000000011",
  ];

  test.each(INVALID)("%s → 400 invalid-request (field uid) before any I/O", async (uid) => {
    const res = await gateway(`/v1/videos/${uid}/download`, { token: await anyone() });
    const body = await expectProblem(res, 400, "invalid-request");
    expect(body.field).toBe("uid");
  });

  // The emulator's per-operation counters are global and other test files may create or list keys
  // at the same time: a window in which keys.* did not move while the gateway handled all five
  // requests shows that none of them reached Stream's keys API.
  test("none of them reaches Stream's keys API", async () => {
    const token = await anyone();
    const keyCalls = (byOperation: Record<string, number>) =>
      Object.entries(byOperation).reduce((n, [op, count]) => (op.startsWith("keys.") ? n + count : n), 0);
    let quiet = false;
    for (let attempt = 0; attempt < 5 && !quiet; attempt++) {
      const before = keyCalls((await counters()).byOperation);
      for (const uid of INVALID) {
        for (const path of [`/v1/videos/${uid}/download`, `/v1/videos/${uid}/downloads`]) {
          expect((await gateway(path, { token })).status).toBe(400);
        }
        expect((await gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token })).status).toBe(400);
      }
      quiet = keyCalls((await counters()).byOperation) === before;
    }
    expect(quiet).toBe(true);
  });
});

describe("filename injection", () => {
  const HOSTILE: [string, string][] = [
    ["a quote", 'say "cheese"'],
    ["CR/LF with a header", "x\r\nSet-Cookie: injected=1"],
    ["a path", "../../etc/passwd"],
    ["10 KB", "x".repeat(10_240)],
    ["emoji", "🎬 Launch 🚀"],
  ];

  test.each(HOSTILE)("redirect mode with %s: Location's filename holds only [A-Za-z0-9_-]", async (_, name) => {
    const { uid } = await seedVideo(READY);
    const res = await download(uid, { query: `?filename=${encodeURIComponent(name)}` });
    expect(res.status).toBe(302);
    expect(res.headers.get("set-cookie")).toBeNull();
    const param = location(res).searchParams.get("filename");
    expect(param).toMatch(ASCII);
    expect(param!.length).toBeLessThanOrEqual(120);
    expect((await follow(res)).status).toBe(200);
  });

  test.each(HOSTILE)("stream mode with %s: 200 and a Content-Disposition without CR/LF or a raw quote in the name", async (_, name) => {
    const { uid } = await seedVideo(READY);
    const res = await gateway(ticketPath(await download(uid, { query: `?mode=stream&filename=${encodeURIComponent(name)}` })));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(res.headers.get("set-cookie")).toBeNull();
    const header = res.headers.get("content-disposition") ?? "";
    expect(header).not.toMatch(/[\r\n]/);
    const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$/.exec(header);
    expect(match, header).not.toBeNull();
    const [, fallback, encoded] = match!;
    expect(fallback).not.toMatch(/[/\\"\r\n]/);
    expect(decodeURIComponent(encoded!)).not.toMatch(/[/\\"\r\n]/);
    expect(new TextEncoder().encode(decodeURIComponent(encoded!)).length).toBeLessThanOrEqual(204);
  });
});

describe("access rules (env settings, called in-process with request.cf)", () => {
  test("ALLOWED_COUNTRIES: the token works from GB and not from US at Stream; the gateway refuses a US request itself", async () => {
    const gb = envWith({ ALLOWED_COUNTRIES: "GB" });
    const { uid } = await seedVideo(READY);
    const token = await anyone();
    const res = await callWorker(gb, `/v1/videos/${uid}/download`, { token, cf: { country: "GB" } });
    expect(res.status).toBe(302);
    expect((await follow(res, { "cf-ipcountry": "US" })).status).toBe(403);
    await expectMedia(await follow(res, { "cf-ipcountry": "GB" }), "video/mp4");

    const fromUs = await callWorker(gb, `/v1/videos/${uid}/download`, { token, cf: { country: "US" } });
    await expectProblem(fromUs, 403, "not-entitled");
  });

  test("LOCK_TO_CLIENT_IP: the grant never becomes a Stream URL; its /d/<ticket> serves the requester (over either family) and refuses everyone else", async () => {
    const locked = envWith({ LOCK_TO_CLIENT_IP: "true" });
    const { uid } = await seedVideo(READY);
    const token = await anyone();
    const res = await callWorker(locked, `/v1/videos/${uid}/download`, { token, headers: { "cf-connecting-ip": "2001:db8:5:6::9" }, cf: { country: "GB" } });
    const path = ticketPath(res);
    // The same browser's next request over IPv4 (dual stack): the first IPv4 network is pinned.
    await expectMedia(await callWorker(locked, path, { headers: { "cf-connecting-ip": "203.0.113.9" } }), "video/mp4");
    await expectMedia(await callWorker(locked, path, { headers: { "cf-connecting-ip": "2001:db8:5:6:ffff::1" } }), "video/mp4");
    await expectProblem(await callWorker(locked, path, { headers: { "cf-connecting-ip": "198.51.100.7" } }), 403, "not-entitled");
    await expectProblem(await callWorker(locked, path, { headers: { "cf-connecting-ip": "2001:db8:5:7::9" } }), 403, "not-entitled");
    // download-url hands out the same kind of URL, never a Stream one.
    const url = await callWorker(locked, `/v1/videos/${uid}/download-url`, { method: "POST", token, headers: { "cf-connecting-ip": "203.0.113.9" } });
    expect(new URL(((await url.json()) as { url: string }).url).pathname).toMatch(/^\/d\//);
  });

  test("LOCK_TO_CLIENT_IP without stream mode is a misconfiguration, named", async () => {
    const bad = envWith({ LOCK_TO_CLIENT_IP: "true", DELIVERY_MODES: "redirect" });
    const body = await expectProblem(await callWorker(bad, `/v1/videos/${"ab".repeat(16)}/download`, { token: await anyone() }), 500, "misconfigured");
    expect(body.setting).toBe("LOCK_TO_CLIENT_IP");
  });

  test("stream mode with ALLOWED_COUNTRIES=GB: the gateway refuses a US client itself, serves a GB one", async () => {
    const gb = envWith({ ALLOWED_COUNTRIES: "GB" });
    const { uid } = await seedVideo(READY);
    const token = await anyone();
    const path = `/v1/videos/${uid}/download?mode=stream`;
    await expectProblem(await callWorker(gb, path, { token, cf: { country: "US" } }), 403, "not-entitled");
    const granted = await callWorker(gb, path, { token, cf: { country: "GB" } });
    await expectMedia(await callWorker(gb, ticketPath(granted), { cf: { country: "GB" } }), "video/mp4");
    expect((await counters(uid)).delivery).toBe(1);
  });
});

describe("configuration", () => {
  test.each([
    ["STREAM_KEY_JWK", "nope-not-a-jwk-Qz7"],
    ["AUTH_HS256_SECRET", "short-secret-Qz7"],
    ["TOKEN_TTL_SECONDS", "90000"],
  ])("a bad %s: 500 misconfigured naming the setting, never its value; /healthz still 200", async (setting, value) => {
    const bad = envWith({ [setting]: value });
    const { uid } = await seedVideo(READY);
    const res = await callWorker(bad, `/v1/videos/${uid}/download`, { token: await anyone() });
    const text = await res.clone().text();
    const body = await expectProblem(res, 500, "misconfigured");
    expect(JSON.stringify(body)).toContain(setting);
    expect(text).not.toContain(value);
    expect([...res.headers].join("\n")).not.toContain(value);
    expect((await callWorker(bad, "/healthz")).status).toBe(200);
  });
});

describe("record", () => {
  interface AuditRow {
    user_id: string;
    video_id: string;
    type: string;
    mode: string;
    country: string | null;
    outcome: string;
    link_id: string | null;
  }

  const auditRows = async (uid: string) => {
    await drainAudit();
    return (await env.DB.prepare("SELECT * FROM audit_events WHERE video_id = ?").bind(uid).all<AuditRow>()).results;
  };

  test("a granted download writes an audit row with user, video, type, mode, country and outcome", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const res = await callWorker(env, `/v1/videos/${uid}/download?type=audio`, {
      token: await appToken(user, { videos: [uid] }),
      cf: { country: "GB" },
    });
    expect(res.status).toBe(302);
    expect(await auditRows(uid)).toEqual([
      expect.objectContaining({ user_id: user, video_id: uid, type: "audio", mode: "redirect", country: "GB", outcome: "granted", link_id: null }),
    ]);
  });

  test("a 202 while the download is prepared writes no audit row", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    const res = await callWorker(env, `/v1/videos/${uid}/download`, { token: await anyone() });
    expect(res.status).toBe(202);
    expect(await auditRows(uid)).toEqual([]);
  });
});

describe("limits", () => {
  // The limiter counts every identified request on the download path, entitled or not (docs/design.md
  // "limits on the whole path"; the code limits before it checks entitlement), so a video the
  // user may not have is the cheap way to reach it: no Stream call is made.
  test("61 requests by one user within a minute: the 61st is 429 rate-limited with Retry-After", async () => {
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser());
    await clearOfLimiterRollover();
    const responses = await Promise.all(Array.from({ length: 61 }, () => download(uid, { token })));
    const limited = responses.filter((r) => r.status === 429);
    expect(responses.filter((r) => r.status === 403)).toHaveLength(60);
    expect(limited).toHaveLength(1);
    const res = limited[0]!;
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    await expectProblem(res, 429, "rate-limited");
    for (const other of responses) if (other !== res) await other.arrayBuffer();
  }, LIMITER_BURST_TIMEOUT_MS);

  test("DAILY_DOWNLOAD_QUOTA=2: X-Downloads-Remaining 1, then 0, then 429 quota-exceeded", async () => {
    const quota = envWith({ DAILY_DOWNLOAD_QUOTA: "2" });
    const { uid } = await seedVideo(READY);
    const token = await anyone();
    const path = `/v1/videos/${uid}/download`;
    const first = await callWorker(quota, path, { token });
    expect([first.status, first.headers.get("x-downloads-remaining")]).toEqual([302, "1"]);
    const second = await callWorker(quota, path, { token });
    expect([second.status, second.headers.get("x-downloads-remaining")]).toEqual([302, "0"]);
    const third = await callWorker(quota, path, { token });
    await expectProblem(third, 429, "quota-exceeded");
    expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});

// Last on purpose: after a 429 the gateway pauses every Stream call of the isolate.
test("Stream answering 429: 503 upstream-unavailable with Retry-After, and Stream is left alone meanwhile", async () => {
  const { uid } = await seedVideo(READY);
  await inject({ operation: "videos.get", video: uid, status: 429, retryAfter: 1, times: 1 });
  const res = await download(uid);
  await expectProblem(res, 503, "upstream-unavailable");
  expect(res.headers.get("retry-after")).toBe("1");
  expect((await counters(uid)).api).toBe(1);
  await sleep(1200);
});
