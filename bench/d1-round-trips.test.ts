// D1 round trips per hot request on a warm isolate (bench/README.md). The gateway runs in workerd with
// its own code and an env whose DB records every trip (d1-recorder.ts); the first request of
// each kind warms the isolate (config, signing key, ready state, block list), the next ones count.
import { env } from "cloudflare:test";
import { expect, test } from "vitest";
import { appToken, callWorker, randomUser } from "../test/helpers";
import { classify, D1Recorder } from "./d1-recorder";

const VIDEO = "c0ffee00000000000000000000000001";
const HOT_REQUESTS = 20;

test("D1 round trips per hot request", async ({ task }) => {
  const recorder = new D1Recorder();
  const recording = { ...env, DB: recorder.wrap(env.DB) } as Env;
  const signedIn = async () => appToken(randomUser(), { videos: "*" });

  async function hot(path: string, init: () => Promise<RequestInit & { token?: string }>, status: number) {
    expect((await callWorker(recording, path, await init())).status).toBe(status);
    recorder.trips = [];
    for (let i = 0; i < HOT_REQUESTS; i++) expect((await callWorker(recording, path, await init())).status).toBe(status);
    const counts = classify(recorder.trips);
    const perRequest = (n: number) => n / HOT_REQUESTS;
    return {
      requests: HOT_REQUESTS,
      perRequest: { total: perRequest(counts.total), reads: perRequest(counts.reads), auditWrites: perRequest(counts.auditWrites), otherWrites: perRequest(counts.otherWrites) },
      statements: [...new Set(recorder.trips.map((t) => `${t.method}: ${t.sql.map((s) => s.replace(/\s+/g, " ").trim().slice(0, 60)).join(" + ")}`))],
    };
  }

  const download = await hot(`/v1/videos/${VIDEO}/download`, async () => ({ token: await signedIn() }), 302);
  const creator = await signedIn();
  const created = await callWorker(recording, `/v1/videos/${VIDEO}/share-links`, {
    method: "POST",
    token: creator,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600, maxDownloads: 1000 }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const share = await hot(`/s/${id}?mode=redirect`, async () => ({ method: "POST" }), 302);
  task.meta.d1 = { download, share };
});
