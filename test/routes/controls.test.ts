// Controls that cannot be bypassed (the controls issue): every finding of the outside review as a
// test that failed on the code before it. A grant takes one use, one quota unit and one audit
// row; HEAD takes nothing; Stream's API budget and D1 are protected; bodies are read no further
// than their cap.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { SignJWT, generateKeyPair } from "jose";
import { describe, expect, test, vi } from "vitest";
import worker from "../../src/index";
import { gatewayOf } from "../../src/index";
import { readBody } from "../../src/input/validate";
import { issueTicket } from "../../src/mint/ticket";
import { Problem } from "../../src/problems";
import { DELIVERY_BASE, counters, injectFault, removeFault, seedVideo, sleep } from "../emulator/helpers";
import { linkSecret, linkByIdOrSecret,
  admin,
  appToken,
  auditCount,
  clearOfLimiterRollover,
  LIMITER_BURST_TIMEOUT_MS,
  callWorker,
  createShareLink,
  download,
  envWith,
  expectProblem,
  gateway,
  quotaUsed,
  keptQueue,
  randomUid,
  randomUser,
  shareLinkRow,
  ticketPath,
} from "../helpers";
import type { QueueMessage } from "../../src/gateway/gateway";

const READY = { name: "Controls", downloads: { default: "ready", audio: "ready" } };


const auditRows = (where: { user?: string; link?: string; video?: string }) =>
  auditCount(
    `(?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR link_id = ${linkByIdOrSecret("?2")}) AND (?3 IS NULL OR video_id = ?3)`,
    where.user ?? null,
    where.link ?? null,
    where.video ?? null,
  );

function linkCreate(testEnv: Env, uid: string, token: string, body: Record<string, unknown> = {}): Promise<Response> {
  return callWorker(testEnv, `/v1/videos/${uid}/share-links`, {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "default", expiresIn: 3600, delivery: "redirect", ...body }),
  });
}

describe("1. a Range header never skips the use, the quota or the audit row", () => {
  test("after the daily quota is used up, GET download and POST download-url with any Range answer 429 and record nothing", async () => {
    const quota = envWith({ DAILY_DOWNLOAD_QUOTA: "1" });
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    expect((await callWorker(quota, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
    for (const range of ["bytes=0-999999999", "bytes=1-", "bytes=100-200", "BYTES=0-", "bytes=-500"]) {
      await expectProblem(await callWorker(quota, `/v1/videos/${uid}/download?mode=redirect`, { token, headers: { range } }), 429, "quota-exceeded");
      await expectProblem(await callWorker(quota, `/v1/videos/${uid}/download?mode=stream`, { token, headers: { range } }), 429, "quota-exceeded");
      await expectProblem(await callWorker(quota, `/v1/videos/${uid}/download-url`, { method: "POST", token, headers: { range } }), 429, "quota-exceeded");
    }
    expect(await auditRows({ user })).toBe(1);
    expect(await quotaUsed(user)).toBe(1);
  });

  test("every ranged grant on a link takes a use: a 2-use link gives two grants, then 410 whatever the Range", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { maxDownloads: 2 });
    expect((await gateway(`/s/${link.secret}?mode=redirect`, { method: "POST", headers: { range: "bytes=1-" } })).status).toBe(302);
    expect((await gateway(`/s/${link.secret}?mode=stream`, { method: "POST", headers: { range: "bytes=0-999999999" } })).status).toBe(303);
    for (const mode of ["stream", "redirect"]) {
      await expectProblem(await gateway(`/s/${link.secret}?mode=${mode}`, { method: "POST", headers: { range: "bytes=1-" } }), 410, "link-exhausted");
    }
    expect((await shareLinkRow(link.id)).uses).toBe(2);
    expect(await auditRows({ link: link.id })).toBe(2);
  });
});

describe("2. HEAD takes nothing, records nothing, creates nothing, fetches no body", () => {
  test("HEAD on a download whose audio does not exist yet: 202 like GET would, and Stream is asked to create nothing", async () => {
    const { uid } = await seedVideo({ name: "No audio yet", downloads: { default: "ready" } });
    const user = randomUser();
    const res = await gateway(`/v1/videos/${uid}/download?type=audio`, { method: "HEAD", token: await appToken(user, { videos: [uid] }) });
    expect(res.status).toBe(202);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await counters(uid)).byOperation["downloads.create"] ?? 0).toBe(0);
    expect(await auditRows({ user })).toBe(0);
  });

  test("HEAD on a ready download: the GET's status and headers without a Location, no audit row, no quota, the remaining count shown", async () => {
    const quota = envWith({ DAILY_DOWNLOAD_QUOTA: "3" });
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    for (const [mode, status] of [["redirect", 302], ["stream", 303]] as const) {
      const res = await callWorker(quota, `/v1/videos/${uid}/download?mode=${mode}`, { method: "HEAD", token });
      expect(res.status).toBe(status);
      expect(res.headers.get("location")).toBeNull();
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("x-downloads-remaining")).toBe("3");
    }
    expect(await auditRows({ user })).toBe(0);
    expect(await quotaUsed(user)).toBe(0);
    const get = await callWorker(quota, `/v1/videos/${uid}/download`, { token });
    expect(get.headers.get("x-downloads-remaining")).toBe("2");
    expect((await counters(uid)).delivery).toBe(0);
  });

  test("HEAD on a grant's URL asks Stream for headers only: no body is fetched upstream", async () => {
    const { uid } = await seedVideo(READY);
    const path = ticketPath(await gateway(`/v1/videos/${uid}/download?mode=stream`, { token: await appToken(randomUser(), { videos: [uid] }) }));
    const head = await gateway(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(1000);
    expect(head.headers.get("content-disposition")).toMatch(/^attachment; /);
    expect(await head.text()).toBe("");
    const seen = await counters(uid);
    expect({ head: seen.byOperation["delivery.head"], get: seen.delivery }).toEqual({ head: 1, get: 0 });
  });
});

describe("the grant's own URL (stream mode)", () => {
  test("is bound to the requester's networks when the link locks to the IP: the other family's first network is pinned, any other address gets 403, the same IPv6 /64 resumes", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { lockToIp: true, maxDownloads: 1 });
    const granted = await gateway(`/s/${link.secret}?mode=stream`, { method: "POST", headers: { "cf-connecting-ip": "2001:db8:7:7::1" } });
    const path = ticketPath(granted);
    await expectProblem(await gateway(path, { headers: { "cf-connecting-ip": "2001:db8:7:8::1" } }), 403, "not-entitled");
    const otherFamily = await gateway(path, { headers: { "cf-connecting-ip": "198.51.100.4", range: "bytes=0-9" } });
    expect(otherFamily.status).toBe(206);
    await otherFamily.arrayBuffer();
    await expectProblem(await gateway(path, { headers: { "cf-connecting-ip": "198.51.100.5" } }), 403, "not-entitled");
    const resumed = await gateway(path, { headers: { "cf-connecting-ip": "2001:db8:7:7:abcd::9", range: "bytes=10-" } });
    expect(resumed.status).toBe(206);
    await resumed.arrayBuffer();
  });

  test("a tampered ticket, a Stream token or garbage is 404; the ticket is no Stream token either", async () => {
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: [uid] });
    const path = ticketPath(await gateway(`/v1/videos/${uid}/download?mode=stream`, { token }));
    const [header, payload, signature] = path.slice(3).split(".") as [string, string, string];
    const forged = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    const other = btoa(JSON.stringify({ ...forged, sub: randomUid() })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectProblem(await gateway(`/d/${header}.${other}.${signature}`), 404, "not-found");
    await expectProblem(await gateway(`/d/${header}.${payload}.${signature.slice(0, -2)}AA`), 404, "not-found");
    await expectProblem(await gateway("/d/not-a-ticket"), 404, "not-found");

    const redirect = await gateway(`/v1/videos/${uid}/download`, { token });
    const streamToken = new URL(redirect.headers.get("location") ?? "").pathname.split("/")[1];
    await expectProblem(await gateway(`/d/${streamToken}`), 404, "not-found");
    const atStream = await fetch(`${DELIVERY_BASE}${path.slice(2)}/downloads/default.mp4`);
    expect(atStream.status).toBeGreaterThanOrEqual(400);
    await atStream.arrayBuffer();
  });

  test("ends with the grant: a link's grant never outlives the link, and an expired ticket is 404", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }));
    const expiresAt = Date.now() + 7000;
    await env.DB.prepare("UPDATE share_links SET expires_at = ?2 WHERE public_id = ?1 OR secret = ?1").bind(link.id, expiresAt).run();
    const path = ticketPath(await gateway(`/s/${link.secret}?mode=stream`, { method: "POST" }));
    const claims = JSON.parse(atob(path.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp: number };
    expect(claims.exp).toBe(Math.floor(expiresAt / 1000));
    const now = Math.floor(Date.now() / 1000);
    const expired = await issueTicket(gatewayOf(env).ticketKey, {
      link: null,
      id: crypto.randomUUID(),
      issuedAt: now - 60,
      video: uid,
      type: "default",
      expiresAt: now - 1,
      network: null,
      countries: { allow: null, block: null },
      name: null,
    });
    await expectProblem(await gateway(`/d/${expired}`), 404, "not-found");
  });

  test("a blocked video's grant URL stops serving at once", async () => {
    const { uid } = await seedVideo(READY);
    const path = ticketPath(await gateway(`/v1/videos/${uid}/download?mode=stream`, { token: await appToken(randomUser(), { videos: [uid] }) }));
    expect((await admin("POST", `/v1/admin/videos/${uid}/block`, {})).status).toBe(200);
    await expectProblem(await gateway(path), 403, "not-entitled");
  });
});

describe("3. Stream's API budget is the gateway's to protect", () => {
  test("a gateway-wide budget: with STREAM_API_BUDGET=5, random UIDs reach Stream 5 times, then 503 with Retry-After", async () => {
    const budget = envWith({ STREAM_API_BUDGET: "5" });
    const token = await appToken(randomUser(), { videos: "*" });
    const uids = Array.from({ length: 9 }, randomUid);
    const statuses: number[] = [];
    for (const uid of uids) {
      const res = await callWorker(budget, `/v1/videos/${uid}/download`, { token });
      statuses.push(res.status);
      if (res.status === 503) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(310);
      }
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([403, 403, 403, 403, 403, 503, 503, 503, 503]);
    let calls = 0;
    for (const uid of uids) calls += (await counters(uid)).api;
    expect(calls).toBe(5);
  });

  test("a user's share (STREAM_API_USER_SHARE=3): three random UIDs reach Stream, the fourth is 429 for that user only", async () => {
    const shared = envWith({ STREAM_API_USER_SHARE: "3" });
    const prober = await appToken(randomUser(), { videos: "*" });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await callWorker(shared, `/v1/videos/${randomUid()}/download`, { token: prober });
      if (res.status === 429) {
        await expectProblem(res, 429, "rate-limited");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      } else await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([403, 403, 403, 429, 429, 429]);
    // Someone else still reaches Stream: their first download works.
    const { uid } = await seedVideo(READY);
    const other = await appToken(randomUser(), { videos: [uid] });
    expect((await callWorker(shared, `/v1/videos/${uid}/download`, { token: other })).status).toBe(302);
  });

  test("a network's share (STREAM_API_NETWORK_SHARE=4) holds across users; another network is not affected", async () => {
    const shared = envWith({ STREAM_API_NETWORK_SHARE: "4" });
    const ask = async (ip: string) => {
      const token = await appToken(randomUser(), { videos: "*" });
      const res = await callWorker(shared, `/v1/videos/${randomUid()}/download`, { token, headers: { "cf-connecting-ip": ip } });
      await res.arrayBuffer();
      return res.status;
    };
    const crowd = [];
    for (let i = 0; i < 6; i++) crowd.push(await ask(`2001:db8:77:1::${i + 1}`));
    expect(crowd).toEqual([403, 403, 403, 403, 429, 429]);
    expect(await ask("203.0.113.77")).toBe(403);
  });

  test("with Stream answering 502, 20 requests for unknown videos reach it at most 10 times (the breaker), all 503 with Retry-After", async () => {
    const token = await appToken(randomUser(), { videos: "*" });
    const fault = await injectFault({ operation: "*", status: 502 });
    try {
      const before = (await counters()).api;
      for (let i = 0; i < 20; i++) {
        const res = await download(randomUid(), { token });
        await expectProblem(res, 503, "upstream-unavailable");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      expect((await counters()).api - before).toBeLessThanOrEqual(10);
    } finally {
      await removeFault(fault);
    }
  });

  test("a spent budget is logged and told to the app once per window (stream.budget_exhausted)", async () => {
    const sent: QueueMessage[] = [];
    const spent = { ...envWith({ STREAM_API_BUDGET: "1", EVENTS_URL: "https://app.example/hooks", EVENTS_SECRET: "whsec_dGVzdC1vbmx5LWV2ZW50cy1zZWNyZXQtMDEyMzQ1Njc4OQ==" }), AUDIT_QUEUE: keptQueue(sent) } as Env;
    const token = await appToken(randomUser(), { videos: "*" });
    const logged = vi.spyOn(console, "error");
    for (let i = 0; i < 4; i++) await (await callWorker(spent, `/v1/videos/${randomUid()}/download`, { token })).arrayBuffer();
    const events = sent.flatMap((m) => (m.kind === "event" ? [m.event] : []));
    expect(events).toEqual([expect.objectContaining({ type: "stream.budget_exhausted", data: { limit: 1, retryAfter: expect.any(Number) } })]);
    expect(logged.mock.calls.filter(([line]) => String(line).startsWith("Stream API budget spent"))).toHaveLength(1);
    logged.mockRestore();
  });

  test("share-link creation is rate-limited per user (429 rate-limited with Retry-After)", async () => {
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: [uid] });
    // At once, so that the whole burst falls in one of the limiter's 60-second windows.
    await clearOfLimiterRollover();
    const responses = await Promise.all(Array.from({ length: 62 }, () => linkCreate(env, uid, token)));
    for (const res of responses) {
      if (res.status === 429) await expectProblem(res, 429, "rate-limited");
      else await res.arrayBuffer();
    }
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("a user's active links are capped (SHARE_LINK_MAX_ACTIVE): 409 too-many-links; a revoked one frees a place", async () => {
    const capped = envWith({ SHARE_LINK_MAX_ACTIVE: "3" });
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: [uid] });
    const created = await Promise.all(Array.from({ length: 6 }, () => linkCreate(capped, uid, token)));
    expect(created.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    const first = created.find((r) => r.status === 201)!;
    const id = linkSecret(await first.json());
    for (const res of created) if (res.status === 409) await expectProblem(res, 409, "too-many-links");
    expect((await callWorker(capped, `/v1/share-links/${id}`, { method: "DELETE", token })).status).toBe(204);
    expect((await linkCreate(capped, uid, token)).status).toBe(201);
  });

  test("the status route asks Stream for the video once for both types", async () => {
    const { uid } = await seedVideo({ name: "Fresh" });
    const res = await gateway(`/v1/videos/${uid}/downloads`, { token: await appToken(randomUser(), { videos: [uid] }) });
    expect(await res.json()).toMatchObject({ default: { status: "none" }, audio: { status: "none" } });
    const seen = (await counters(uid)).byOperation;
    expect({ get: seen["videos.get"], downloads: seen["downloads.get"] }).toEqual({ get: 1, downloads: 1 });
  });

  test("the status route is rate-limited like the download routes", async () => {
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: [uid] });
    await clearOfLimiterRollover();
    const responses = await Promise.all(Array.from({ length: 62 }, () => gateway(`/v1/videos/${uid}/downloads`, { token })));
    for (const res of responses) await res.arrayBuffer();
    expect(responses.filter((r) => r.status === 429)).toHaveLength(2);
  }, LIMITER_BURST_TIMEOUT_MS);

  test("an IPv6 client is its /64: 122 addresses of one /64 meet the per-IP limit (120 a minute) as one client", async () => {
    const demo = envWith({ DEMO_ENABLED: "true" });
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    await clearOfLimiterRollover();
    const responses = await Promise.all(
      Array.from({ length: 122 }, (_, i) => callWorker(demo, "/demo/videos", { headers: { "cf-connecting-ip": `${prefix}:${(i + 1).toString(16)}::${(i * 7 + 3).toString(16)}` } })),
    );
    for (const res of responses) await res.arrayBuffer();
    expect(responses.filter((r) => r.status === 429)).toHaveLength(2);
  }, LIMITER_BURST_TIMEOUT_MS);
});

describe("4. D1 does not grow without bound", () => {
  test("unknown or refused UIDs leave no download_state row, and asking again costs no Stream call", async () => {
    const token = await appToken(randomUser(), { videos: "*" });
    const uids = Array.from({ length: 5 }, randomUid);
    for (const uid of uids) await expectProblem(await gateway(`/v1/videos/${uid}/download`, { token }), 403, "not-entitled");
    for (const uid of uids) await expectProblem(await gateway(`/v1/videos/${uid}/downloads`, { token }), 403, "not-entitled");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM download_state WHERE video_id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(uids))
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    for (const uid of uids) expect((await counters(uid)).api).toBe(1);
  });

  test("the cron drops refusals nobody asked about for a day", async () => {
    const old = randomUid();
    const fresh = randomUid();
    const now = Date.now();
    for (const [uid, polledAt] of [[old, now - 2 * 86_400_000], [fresh, now]] as const) {
      await env.DB.prepare(
        "INSERT INTO download_state (video_id, type, status, refusal, checked_at, polled_at) VALUES (?1, 'default', 'pending', 'video-not-ready', ?2, ?2)",
      )
        .bind(uid, polledAt)
        .run();
    }
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await env.DB.prepare("SELECT video_id FROM download_state WHERE video_id IN (?1, ?2)").bind(old, fresh).all<{ video_id: string }>();
    expect(left.results.map((r) => r.video_id)).toEqual([fresh]);
  });
});

describe("5. bodies are read no further than their cap", () => {
  test("a chunked body without Content-Length is cut off at the cap: 413, and the rest is never pulled", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(1024).fill(120);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 400_000) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const request = new Request("https://gateway.test/s/x", { method: "POST", body: endless, duplex: "half" } as RequestInit);
    const error = await readBody(request, 4096).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Problem);
    expect((error as Problem).status).toBe(413);
    expect(pulled).toBeLessThan(10);
  });

  test("an unauthenticated POST /s/:id with a declared 400 MB body is refused with 413 before anything is read", async () => {
    const res = await gateway("/s/x", { method: "POST", headers: { "content-length": String(400 * 1024 * 1024), "content-type": "application/json" }, body: "{}" });
    await expectProblem(res, 413, "payload-too-large");
  });

  test("a streamed oversize body to POST /s/:id is 413 problem+json", async () => {
    const big = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(1024).fill(32));
        controller.close();
      },
    });
    const res = await gateway("/s/x", { method: "POST", body: big, duplex: "half" } as RequestInit);
    await expectProblem(res, 413, "payload-too-large");
  });
});

/** A fresh video, its entitled creator and a share link of theirs, under a gateway with DAILY_DOWNLOAD_QUOTA = `limit`. */
async function quotaAndLink(limit: number, maxDownloads: number) {
  const quota = envWith({ DAILY_DOWNLOAD_QUOTA: String(limit) });
  const { uid } = await seedVideo(READY);
  const user = randomUser();
  const token = await appToken(user, { videos: [uid] });
  const id = linkSecret(await (await linkCreate(quota, uid, token, { maxDownloads })).json());
  return { quota, uid, user, token, id };
}

describe("6. a user's own share link does not bypass their daily quota", () => {
  test("link downloads take the creator's quota: with a quota of 2, one download and one link grant use it up", async () => {
    const quota = envWith({ DAILY_DOWNLOAD_QUOTA: "2" });
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    const created = await linkCreate(quota, uid, token, { maxDownloads: 10 });
    const id = linkSecret(await created.json());
    expect((await callWorker(quota, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
    expect((await callWorker(quota, `/s/${id}?mode=redirect`, { method: "POST" })).status).toBe(302);
    const refused = await expectProblem(await callWorker(quota, `/s/${id}?mode=redirect`, { method: "POST" }), 429, "quota-exceeded");
    expect(refused.retryAfter).toEqual(expect.any(Number));
    await expectProblem(await callWorker(quota, `/v1/videos/${uid}/download`, { token }), 429, "quota-exceeded");
    expect((await shareLinkRow(id)).uses).toBe(1);
    expect(await quotaUsed(user)).toBe(2);
    expect((await auditRows({ user })) + (await auditRows({ link: id }))).toBe(2);
  });

  test("while a crowd races for a link's last use, nobody is told the creator's quota is gone for the day", async () => {
    const { quota, uid, user, token, id } = await quotaAndLink(3, 1);
    // The creator downloads while 20 strangers, each on a network of their own, click the one-use link.
    const clicks = Array.from({ length: 20 }, (_, i) =>
      callWorker(quota, `/s/${id}?mode=redirect`, { method: "POST", headers: { "cf-connecting-ip": `198.51.${i + 1}.7` } }),
    );
    const own = callWorker(quota, `/v1/videos/${uid}/download`, { token });
    const answers = await Promise.all([...clicks, own].map(async (r) => {
      const res = await r;
      return { status: res.status, retryAfter: res.headers.get("retry-after") };
    }));
    // Units held by clicks that then lose the race are given back: a refusal meanwhile says "in a moment".
    expect(answers.filter((a) => a.status === 429).map((a) => a.retryAfter)).toEqual(answers.filter((a) => a.status === 429).map(() => "1"));
    expect(answers.slice(0, 20).filter((a) => a.status === 302)).toHaveLength(1);
    expect(answers.every((a) => [302, 410, 429].includes(a.status))).toBe(true);
    const ownGranted = answers[20]!.status === 302 ? 1 : 0;
    expect(await quotaUsed(user)).toBe(1 + ownGranted);
    expect((await shareLinkRow(id)).uses).toBe(1);
    // Once the crowd is gone, the creator's remaining downloads are there.
    expect((await callWorker(quota, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
  });

  test("a link whose creator's quota is used up takes no use: refused until midnight, uses and audit stay 0", async () => {
    const { quota, uid, token, id } = await quotaAndLink(1, 2);
    expect((await callWorker(quota, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
    for (let i = 0; i < 3; i++) {
      const refused = await expectProblem(await callWorker(quota, `/s/${id}?mode=redirect`, { method: "POST" }), 429, "quota-exceeded");
      expect(refused.retryAfter).toBeGreaterThan(1);
    }
    expect((await shareLinkRow(id)).uses).toBe(0);
    expect(await auditRows({ link: id })).toBe(0);
  });
});

describe("7. a lone surrogate in a video's name", () => {
  test("stream-mode downloads and share-link downloads answer, never 500", async () => {
    const { uid } = await seedVideo({ ...READY, name: "broken \uD800 name" });
    const token = await appToken(randomUser(), { videos: [uid] });
    const file = await gateway(ticketPath(await gateway(`/v1/videos/${uid}/download?mode=stream`, { token })));
    expect(file.status).toBe(200);
    const disposition = file.headers.get("content-disposition") ?? "";
    expect(disposition).toMatch(/^attachment; filename="[ -~]+\.mp4"; filename\*=UTF-8''[A-Za-z0-9%!#$&+\-.^_`|~]+$/);
    expect(decodeURIComponent(disposition.split("''")[1]!)).toBe("broken \uFFFD name.mp4");
    await file.arrayBuffer();
    const link = await createShareLink(uid, token);
    for (const mode of ["redirect", "stream"]) {
      const res = await gateway(`/s/${link.secret}?mode=${mode}`, { method: "POST" });
      expect([302, 303]).toContain(res.status);
    }
  });
});

describe("8. a link in its last seconds", () => {
  test("answers 410 link-expired (not 500, not a grant that expires at once), and takes no use", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }));
    await env.DB.prepare("UPDATE share_links SET expires_at = ?2 WHERE public_id = ?1 OR secret = ?1").bind(link.id, Date.now() + 3000).run();
    await expectProblem(await gateway(`/s/${link.secret}?mode=redirect`, { method: "POST" }), 410, "link-expired");
    expect((await shareLinkRow(link.id)).uses).toBe(0);
  });
});

describe("9. the session cookie only from our own site", () => {
  test("a cross-site navigation with the cookie is refused and records nothing, as is a sibling subdomain's; same-origin, the app's page, none and no header download", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const cookie = `sdg_session=${await appToken(user, { videos: [uid] })}`;
    const foreign: Array<Record<string, string>> = [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { "sec-fetch-site": "same-site", referer: "https://forum.app.example/" }];
    for (const headers of foreign) {
      const res = await gateway(`/v1/videos/${uid}/download`, { headers: { cookie, ...headers } });
      await expectProblem(res, 403, "cross-site-request");
    }
    expect(await auditRows({ user })).toBe(0);
    for (const site of ["same-origin", "same-site", "none", null]) {
      const headers: Record<string, string> = { cookie };
      if (site !== null) headers["sec-fetch-site"] = site;
      // The app's own page (CORS_ORIGINS) links to the download.
      if (site === "same-site") headers["referer"] = "https://app.example/library";
      expect((await gateway(`/v1/videos/${uid}/download`, { headers })).status).toBe(302);
    }
    expect(await auditRows({ user })).toBe(4);
  });
});

describe("11. an identity provider outage", () => {
  test("is 503 upstream-unavailable with Retry-After, not a 401 that signs users out", async () => {
    const jwks = envWith({ AUTH_HS256_SECRET: "", AUTH_JWKS_URL: "https://idp-outage.example/no-such-jwks" });
    const { privateKey } = await generateKeyPair("RS256");
    const jwt = await new SignJWT({ videos: "*" }).setProtectedHeader({ alg: "RS256", kid: "k" }).setSubject("u").setExpirationTime("5m").sign(privateKey);
    const res = await callWorker(jwks, `/v1/videos/${randomUid()}/download`, { token: jwt });
    const problem = await expectProblem(res, 503, "upstream-unavailable");
    expect(problem.retryAfter).toEqual(expect.any(Number));
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});

describe("12. a deleted grant made again is a new grant", () => {
  test("links made under the old grant stay dead (410 link-revoked)", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    const link = await createShareLink(uid, await appToken(user), { maxDownloads: 5 });
    expect((await gateway(`/s/${link.secret}?mode=redirect`, { method: "POST" })).status).toBe(302);
    expect((await admin("DELETE", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    await sleep(5);
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    await expectProblem(await gateway(`/s/${link.secret}?mode=redirect`, { method: "POST" }), 410, "link-revoked");
    // Extending the same grant keeps its links alive.
    const kept = await createShareLink(uid, await appToken(user), { maxDownloads: 5 });
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid, expiresAt: new Date(Date.now() + 86_400_000).toISOString() }] })).status).toBe(200);
    expect((await gateway(`/s/${kept.secret}?mode=redirect`, { method: "POST" })).status).toBe(302);
  });
});

describe("the grant's URL stays a URL", () => {
  test("a 60 KB filename becomes a name of at most 200 bytes in the ticket, not a 60 KB Location", async () => {
    const { uid } = await seedVideo(READY);
    const filename = "é".repeat(30_000);
    const res = await gateway(`/v1/videos/${uid}/download?mode=stream&filename=${encodeURIComponent(filename)}`, {
      token: await appToken(randomUser(), { videos: [uid] }),
    });
    expect((res.headers.get("location") ?? "").length).toBeLessThan(1500);
    const file = await gateway(ticketPath(res));
    const disposition = file.headers.get("content-disposition") ?? "";
    expect(decodeURIComponent(disposition.split("''")[1]!)).toBe(`${"é".repeat(100)}.mp4`);
    await file.arrayBuffer();
  });
});

describe("the outside review's second round", () => {
  test("with the API budget spent, an unknown UID answers 503 every time (never 202) and leaves no row", async () => {
    const spent = envWith({ STREAM_API_BUDGET: "1" });
    const token = await appToken(randomUser(), { videos: "*" });
    await callWorker(spent, `/v1/videos/${randomUid()}/download`, { token });
    const uid = randomUid();
    for (let i = 0; i < 3; i++) {
      const res = await callWorker(spent, `/v1/videos/${uid}/download`, { token });
      await expectProblem(res, 503, "upstream-unavailable");
    }
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM download_state WHERE video_id = ?1").bind(uid).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  test("HEAD answers 429 like GET once the daily quota is used up", async () => {
    const quota = envWith({ DAILY_DOWNLOAD_QUOTA: "1" });
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await callWorker(quota, `/v1/videos/${uid}/download`, { token })).status).toBe(302);
    const head = await callWorker(quota, `/v1/videos/${uid}/download`, { method: "HEAD", token });
    expect(head.status).toBe(429);
    expect(head.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  test("a stream-mode grant's URL checks the countries again on every fetch, as a Stream token's rules would", async () => {
    const gb = envWith({ ALLOWED_COUNTRIES: "GB" });
    const { uid } = await seedVideo(READY);
    const granted = await callWorker(gb, `/v1/videos/${uid}/download?mode=stream`, { token: await appToken(randomUser(), { videos: [uid] }), cf: { country: "GB" } });
    const path = ticketPath(granted);
    await expectProblem(await callWorker(gb, path, { cf: { country: "US" } }), 403, "not-entitled");
    const file = await callWorker(gb, path, { cf: { country: "GB" } });
    expect(file.status).toBe(200);
    await file.arrayBuffer();
  });

  test("an IP-locked link fails closed when the requester's address is unknown", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { lockToIp: true });
    await expectProblem(await gateway(`/s/${link.secret}`, { method: "POST" }), 403, "not-entitled");
    expect((await shareLinkRow(link.id)).uses).toBe(0);
  });

  test("an IPv4-mapped requester's ticket admits that IPv4 address only", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { lockToIp: true });
    const path = ticketPath(await gateway(`/s/${link.secret}?mode=stream`, { method: "POST", headers: { "cf-connecting-ip": "::ffff:198.51.100.1" } }));
    await expectProblem(await gateway(path, { headers: { "cf-connecting-ip": "::ffff:9.9.9.9" } }), 403, "not-entitled");
    const same = await gateway(path, { headers: { "cf-connecting-ip": "198.51.100.1" } });
    expect(same.status).toBe(200);
    await same.arrayBuffer();
  });

  test("while the identity provider is down, its JWKS is fetched once per outage window, not once per request", async () => {
    const jwks = envWith({ AUTH_HS256_SECRET: "", AUTH_JWKS_URL: "https://idp-down.example/__emulator/jwks/fetches" });
    const { privateKey } = await generateKeyPair("RS256");
    const jwt = await new SignJWT({ videos: "*" }).setProtectedHeader({ alg: "RS256", kid: "k" }).setSubject("u").setExpirationTime("5m").sign(privateKey);
    const fetches = vi.spyOn(globalThis, "fetch");
    for (let i = 0; i < 5; i++) await expectProblem(await callWorker(jwks, `/v1/videos/${randomUid()}/download`, { token: jwt }), 503, "upstream-unavailable");
    expect(fetches.mock.calls.filter(([input]) => String(input instanceof Request ? input.url : input).includes("idp-down.example"))).toHaveLength(1);
    fetches.mockRestore();
  });

  test("the demo's video list is rate-limited per IP (each call spends the Stream API budget)", async () => {
    const demo = envWith({ DEMO_ENABLED: "true" });
    // A fresh address per run, all at once: one limiter window, no count left from an earlier run.
    const ip = `192.0.2.${1 + Math.floor(Math.random() * 250)}`;
    await clearOfLimiterRollover();
    const responses = await Promise.all(
      Array.from({ length: 122 }, () => callWorker(demo, "/demo/videos", { headers: { "cf-connecting-ip": ip } })),
    );
    for (const res of responses) await res.arrayBuffer();
    expect(responses.filter((r) => r.status === 429)).toHaveLength(2);
  }, LIMITER_BURST_TIMEOUT_MS);
});

describe("the IP lock's second slot (the second review)", () => {
  async function lockedTicket(issuedAt: number, network: string): Promise<string> {
    const { uid } = await seedVideo(READY);
    return issueTicket(gatewayOf(env).ticketKey, {
      link: null,
      id: crypto.randomUUID(),
      issuedAt,
      video: uid,
      type: "default",
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      network,
      countries: { allow: new Set(["GB"]), block: null },
      name: null,
    });
  }

  test("the other family may claim it only right after the grant", async () => {
    const now = Math.floor(Date.now() / 1000);
    const late = await lockedTicket(now - 300, "2001:db8:aa::/64");
    await expectProblem(await callWorker(env, `/d/${late}`, { headers: { "cf-connecting-ip": "203.0.113.61" }, cf: { country: "GB" } }), 403, "not-entitled");
    const fresh = await lockedTicket(now, "2001:db8:aa::/64");
    const claimed = await callWorker(env, `/d/${fresh}`, { headers: { "cf-connecting-ip": "203.0.113.61" }, cf: { country: "GB" } });
    expect(claimed.status).toBe(200);
    await claimed.arrayBuffer();
  });

  test("a request refused for its country does not take the slot", async () => {
    const ticket = await lockedTicket(Math.floor(Date.now() / 1000), "2001:db8:bb::/64");
    await expectProblem(await callWorker(env, `/d/${ticket}`, { headers: { "cf-connecting-ip": "198.51.100.61" }, cf: { country: "US" } }), 403, "not-entitled");
    const requester = await callWorker(env, `/d/${ticket}`, { headers: { "cf-connecting-ip": "198.51.100.62" }, cf: { country: "GB" } });
    expect(requester.status).toBe(200);
    await requester.arrayBuffer();
  });
});
