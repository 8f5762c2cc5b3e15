// D1 round trips per hot request on a warm isolate (bench/README.md). The gateway runs in workerd with
// its own code and an env whose DB records every trip (d1-recorder.ts) and whose audit queue
// counts what is sent to it (and passes it on); the first request of each kind warms the isolate
// (config, signing key, ready state, block list), the next ones count. The events sent are then
// given to the gateway's own queue consumer in batches of the size wrangler.toml sets, with the
// recording DB, so that what the consumer writes is counted too.
import { createMessageBatch, createExecutionContext, env, getQueueResult } from "cloudflare:test";
import { expect, test } from "vitest";
import worker, { gatewayOf } from "../src/dev";
import type { QueueMessage } from "../src/gateway/gateway";
import { appToken, callWorker, keptQueue, linkSecret, randomUser } from "../test/helpers";
import { classify, D1Recorder } from "./d1-recorder";

const VIDEO = "c0ffee00000000000000000000000001";
const HOT_REQUESTS = 20;
const D1_TRANSACTIONS_PER_SECOND = 1000;
/** wrangler.toml [[queues.consumers]] max_batch_size: under load every batch is full. */
const MAX_BATCH = 100;

test("D1 round trips per hot request", async ({ task }) => {
  const recorder = new D1Recorder();
  const sent: QueueMessage[] = [];
  const recording = { ...env, DB: recorder.wrap(env.DB), AUDIT_QUEUE: keptQueue(sent) } as Env;
  const signedIn = async () => appToken(randomUser(), { videos: "*" });

  /** D1 write transactions the consumer makes for a full batch of events (one, if it works as designed). */
  async function consumerTransactionsPerBatch(events: QueueMessage[]): Promise<number> {
    recorder.trips = [];
    const batch = createMessageBatch("stream-download-audit", events.slice(0, MAX_BATCH).map((body, i) => ({ id: `bench-${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await worker.queue(batch, recording, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.length).toBe(Math.min(events.length, MAX_BATCH));
    return classify(recorder.trips).writeTransactions;
  }

  async function hot(path: string, init: () => Promise<RequestInit & { token?: string }>, status: number) {
    expect((await callWorker(recording, path, await init())).status).toBe(status);
    recorder.trips = [];
    sent.length = 0;
    for (let i = 0; i < HOT_REQUESTS; i++) expect((await callWorker(recording, path, await init())).status).toBe(status);
    const trips = recorder.trips;
    const counts = classify(trips);
    const perRequest = (n: number) => n / HOT_REQUESTS;
    const queueSendsPerDownload = perRequest(sent.length);
    const requestWritesPer1000 = perRequest(counts.writeTransactions) * 1000;
    const consumerWritesPer1000 = ((await consumerTransactionsPerBatch([...sent])) * 1000 * queueSendsPerDownload) / MAX_BATCH;
    const writeTransactionsPer1000 = requestWritesPer1000 + consumerWritesPer1000;
    return {
      requests: HOT_REQUESTS,
      perRequest: { total: perRequest(counts.total), reads: perRequest(counts.reads), writes: perRequest(counts.writeTransactions) },
      queueSendsPerDownload,
      requestWritesPer1000,
      consumerWritesPer1000,
      writeTransactionsPer1000,
      // D1 runs one query at a time: about 1,000 per second at 1 ms each (Cloudflare's D1 limits page).
      ceilingPerSecond: writeTransactionsPer1000 === 0 ? null : (D1_TRANSACTIONS_PER_SECOND * 1000) / writeTransactionsPer1000,
      statements: [...new Set(trips.map((t) => `${t.method}: ${t.sql.map((s) => s.replace(/\s+/g, " ").trim().slice(0, 60)).join(" + ")}`))],
    };
  }

  const download = await hot(`/v1/videos/${VIDEO}/download`, async () => ({ token: await signedIn() }), 302);
  const creator = await signedIn();
  const created = await callWorker(recording, `/v1/videos/${VIDEO}/share-links`, {
    method: "POST",
    token: creator,
    headers: { "content-type": "application/json" },
    // Unlimited, delivered through the gateway (the default): its /d/ URL is what a grant hands out.
    body: JSON.stringify({ expiresIn: 3600 }),
  });
  expect(created.status).toBe(201);
  const share = await hot(`/s/${linkSecret(await created.json())}`, async () => ({ method: "POST" }), 303);

  // A used-up link posted to a large audience: after the first read, no POST reaches D1 (each asks
  // only the link's object, which may hand the poster's network its grant back).
  const oneUse = await callWorker(recording, `/v1/videos/${VIDEO}/share-links`, {
    method: "POST",
    token: creator,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600, maxDownloads: 1 }),
  });
  const usedUp = linkSecret(await oneUse.json());
  expect((await callWorker(recording, `/s/${usedUp}`, { method: "POST" })).status).toBe(303);
  expect((await callWorker(recording, `/s/${usedUp}`, { method: "POST" })).status).toBe(410);
  recorder.trips = [];
  for (let i = 0; i < 1000; i++) expect((await callWorker(recording, `/s/${usedUp}`, { method: "POST" })).status).toBe(410);
  const usedUpStatementsPer1000 = recorder.trips.reduce((n, trip) => n + trip.sql.length, 0);
  task.meta.d1 = { download, share, usedUpStatementsPer1000 };
  const ceiling = (n: number | null) => (n === null ? "none" : `${Math.round(n)} downloads/s`);
  console.log(
    `D1 write transactions per 1,000 hot downloads: signed-in ${download.writeTransactionsPer1000}, share link (unlimited) ${share.writeTransactionsPer1000}; ` +
      `queue sends per download: signed-in ${download.queueSendsPerDownload}, share link ${share.queueSendsPerDownload}; ` +
      `ceiling at ${D1_TRANSACTIONS_PER_SECOND} transactions/s: ${ceiling(download.ceilingPerSecond)} signed-in, ${ceiling(share.ceilingPerSecond)} by share link`,
  );
  console.log(`D1 write transactions per 1,000 share-link downloads: ${share.writeTransactionsPer1000}`);
  console.log(`D1 statements per 1,000 POSTs to a used-up link: ${usedUpStatementsPer1000}`);
});

/**
 * One link's object, asked for uses as fast as the Worker can (100 at a time): its throughput,
 * the ceiling of one viral link. Local simulation: workerd on this machine, not Cloudflare's edge.
 */
test("uses per second one link's object takes", async ({ task }) => {
  const creator = await appToken(randomUser(), { videos: "*" });
  const created = await callWorker(env, `/v1/videos/${VIDEO}/share-links`, {
    method: "POST",
    token: creator,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600 }),
  });
  const { links } = gatewayOf(env);
  const link = await links.bySecret(linkSecret(await created.json()));
  if (link === null) throw new Error("the link was not created");
  const use = async () => {
    const now = Date.now();
    const event = { id: crypto.randomUUID(), at: now, user: null, link: link.id, video: VIDEO, type: "default", mode: "stream", country: null, network: "192.0.2.0/24", outcome: "granted" };
    const grant = { id: crypto.randomUUID(), expiresAt: Math.floor(now / 1000) + 60 };
    // grantsUntil past every grant: each use is a new grant, as from a network of its own.
    const answer = await links.redeem(link, { now, network: "192.0.2.0/24", country: "GB", grant, handout: { grant, url: "https://gateway.example/d/x", mode: "stream" }, grantsUntil: Number.MAX_SAFE_INTEGER, event });
    expect(answer.kind).toBe("granted");
    await links.sent(link.id, event.id);
  };
  await use();
  const USES = 2000;
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < USES) {
      next += 1;
      await use();
    }
  }));
  const perSecond = Math.round((USES / (performance.now() - started)) * 1000);
  task.meta.linkObject = { uses: USES, perSecond };
  console.log(`One link's object: ${perSecond} uses/s (each a use and its outbox entry cleared; local simulation)`);
});
