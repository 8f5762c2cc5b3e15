// What the emulator remembers outlives its Durable Object's eviction: workerd evicts an idle
// object within seconds (in `wrangler dev` a client waiting 20 s between calls met a fresh one),
// and starts a new instance over the same storage. abortAllDurableObjects() does that to the
// emulator, an auxiliary Worker (evictDurableObject only reaches the main Worker's objects): the
// instance goes, storage stays. The account's state was always saved; these tests pin that the
// instruments (counters, faults, quirks, the rate limit, the webhook log) and the JWKS stand-in
// are saved too.
import { abortAllDurableObjects } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, control, counters, injectFault, removeFaults, seedVideo, sleep } from "./helpers";

interface Jwks {
  keys: Record<string, unknown>[];
}

const IDP_KEY = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid: "idp-restart", alg: "EdDSA" };
const STREAM_RATE_LIMIT = { limit: 1200, windowSeconds: 300, lockoutSeconds: 300 };

describe("the JWKS stand-in", () => {
  let before: Jwks;
  beforeAll(async () => {
    before = await control<Jwks>("GET", "/jwks");
  });
  afterAll(async () => {
    await control("PUT", "/jwks", before);
  });

  test("a JWKS put to the stand-in is still served, and its fetches still counted, after an eviction", async () => {
    expect(await control("PUT", "/jwks", { keys: [IDP_KEY] })).toEqual({ keys: [IDP_KEY] });
    expect(await control("GET", "/jwks")).toEqual({ keys: [IDP_KEY] });
    const { fetches } = await control<{ fetches: number }>("GET", "/jwks/fetches");
    expect(fetches).toBeGreaterThanOrEqual(1);

    await abortAllDurableObjects();

    expect(await control("GET", "/jwks/fetches")).toEqual({ fetches });
    expect(await control("GET", "/jwks")).toEqual({ keys: [IDP_KEY] });
    expect(await control("GET", "/jwks/fetches")).toEqual({ fetches: fetches + 1 });
  });

  test("a JWKS replaced before an eviction is served as replaced", async () => {
    await control("PUT", "/jwks", { keys: [IDP_KEY] });
    await control("PUT", "/jwks", { keys: [] });
    await abortAllDurableObjects();
    expect(await control("GET", "/jwks")).toEqual({ keys: [] });
  });
});

describe("the instruments", () => {
  afterAll(async () => {
    await removeFaults();
    await control("DELETE", "/quirks");
    await control("PUT", "/rate-limit", STREAM_RATE_LIMIT);
  });

  test("counters, a fault's remaining uses, quirks and a rate-limit lockout are intact after an eviction", async () => {
    const { uid } = await seedVideo();
    expect((await api(`/${uid}`)).status).toBe(200);
    expect((await api(`/${uid}`)).status).toBe(200);
    await injectFault({ operation: "videos.get", video: uid, status: 503, times: 2 });
    expect((await api(`/${uid}`)).status).toBe(503);
    await control("PUT", "/quirks", { createResponse: "flat", keyKid: "differs" });
    const quirks = await control<Record<string, unknown>>("GET", "/quirks");
    await control("PUT", "/rate-limit", { limit: 1, windowSeconds: 600, lockoutSeconds: 600 });
    expect((await api("/keys")).status).toBe(200);
    expect((await api("/keys")).status).toBe(429);
    const counted = await counters(uid);
    expect(counted).toEqual({ api: 3, delivery: 0, byOperation: { "videos.get": 3 } });

    await abortAllDurableObjects();

    const locked = await api("/keys");
    expect({
      counters: await counters(uid),
      quirks: await control("GET", "/quirks"),
      rateLimit: await control("GET", "/rate-limit"),
      locked: locked.status,
      retryAfter: Number(locked.headers.get("retry-after")),
    }).toEqual({
      counters: counted,
      quirks,
      rateLimit: { limit: 1, windowSeconds: 600, lockoutSeconds: 600 },
      locked: 429,
      retryAfter: expect.toSatisfy((seconds: number) => seconds > 590 && seconds <= 600),
    });
    expect(quirks).toMatchObject({ createResponse: "flat", keyKid: "differs" });

    // Lifting the limit lets the fault's one remaining use show: it strikes once more, then no more.
    await control("PUT", "/rate-limit", STREAM_RATE_LIMIT);
    await abortAllDurableObjects();
    expect((await api(`/${uid}`)).status).toBe(503);
    expect((await api(`/${uid}`)).status).toBe(200);
    expect((await counters(uid)).byOperation).toEqual({ "videos.get": 5 });
  });

  test("the webhook log keeps its deliveries across an eviction", async () => {
    const previous = await api<{ notificationUrl: string; secret: string }>("/webhook");
    await control("PUT", "/webhook", { notificationUrl: "https://gateway.test/webhooks/stream?hook=persistence", secret: "persistence-secret" });
    try {
      const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600 });
      await control("POST", `/videos/${uid}/state`, { state: "ready" });
      let log: { video: string }[] = [];
      for (let i = 0; i < 30 && !log.some((d) => d.video === uid); i++) {
        await sleep(100);
        log = await control("GET", "/webhook-deliveries");
      }
      expect(log.filter((d) => d.video === uid)).toHaveLength(1);

      await abortAllDurableObjects();

      expect(await control("GET", "/webhook-deliveries")).toEqual(log);
    } finally {
      if (previous.status === 200) {
        const { notificationUrl, secret } = previous.body.result;
        await control("PUT", "/webhook", { notificationUrl, secret });
      } else await api("/webhook", { method: "DELETE" });
    }
  });
});
