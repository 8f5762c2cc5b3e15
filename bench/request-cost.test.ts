// Where the time of a hot download goes, inside workerd: the same request with one local stand-in
// taken away at a time. Locally, the rate limiters and the audit queue are simulated inside the
// gateway's own workerd process, so `npm run bench` counts their work as the gateway's CPU; in production they
// are services of their own. Sequential requests in one isolate, wall time per request (workerd's
// clock ticks in whole milliseconds and only between I/O, so each figure is a total over many).
import { env } from "cloudflare:test";
import { expect, test } from "vitest";
import { gatewayOf } from "../src/index";
import { createVerifier, identifyUser } from "../src/identify/app-token";
import { mintDownloadToken } from "../src/mint/token";
import { appToken, callWorker, GATEWAY } from "../test/helpers";

const VIDEO = "c0ffee00000000000000000000000001";
const REQUESTS = 300;
const WARMUP = 30;

const users = await Promise.all(
  Array.from({ length: (REQUESTS + WARMUP) * 4 }, async (_, i) => ({
    token: await appToken(`cost-user-${i}`, { videos: "*" }),
    ip: `10.9.${i >> 8}.${i & 255}`,
  })),
);
let nextUser = 0;

/** workerd's clock only moves when the isolate waits for I/O: a timer before each reading. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function msPerRequest(run: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await run();
  await settle();
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) await run();
  await settle();
  return (performance.now() - started) / REQUESTS;
}

function download(testEnv: Env): () => Promise<void> {
  return async () => {
    const user = users[nextUser++ % users.length]!;
    const res = await callWorker(testEnv, `/v1/videos/${VIDEO}/download`, { token: user.token, headers: { "cf-connecting-ip": user.ip } });
    expect(res.status).toBe(302);
  };
}

test("where the time of a hot download goes", async ({ task }) => {
  const allow: RateLimit = { limit: async () => ({ success: true }) };
  const noLimiters = { USER_RATE_LIMITER: allow, IP_RATE_LIMITER: allow };
  // A queue that takes the event and does nothing with it: the send's cost taken away.
  const noAudit = { AUDIT_QUEUE: { send: async () => {}, sendBatch: async () => {} } as unknown as Queue };
  const gateway = gatewayOf(env);
  const { auth } = gateway.config;
  if (auth.kind === "hook") throw new Error("the bench configures AUTH_HS256_SECRET");
  const verifier = createVerifier(auth);
  const request = () => new Request(`${GATEWAY}/`, { headers: { authorization: `Bearer ${users[nextUser++ % users.length]!.token}` } });

  task.meta.cost = {
    requests: REQUESTS,
    healthz: await msPerRequest(async () => {
      expect((await callWorker(env, "/healthz")).status).toBe(200);
    }),
    download: await msPerRequest(download({ ...env } as Env)),
    downloadWithoutRateLimiters: await msPerRequest(download({ ...env, ...noLimiters } as Env)),
    downloadWithoutAuditSend: await msPerRequest(download({ ...env, ...noAudit } as Env)),
    downloadWithoutEither: await msPerRequest(download({ ...env, ...noLimiters, ...noAudit } as Env)),
    identifyHs256: await msPerRequest(async () => {
      await identifyUser(request(), verifier, { allowCookie: true });
    }),
    sign: await msPerRequest(async () => {
      await mintDownloadToken(gateway.signer, { video: VIDEO, ttlSeconds: 3600 });
    }),
  };
}, 120_000);
