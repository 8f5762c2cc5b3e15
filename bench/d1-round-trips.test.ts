// D1 round trips per hot request on a warm isolate (bench/README.md). The gateway runs in workerd with
// its own code and an env whose DB records every trip (d1-recorder.ts) and whose audit queue
// counts what is sent to it (and passes it on); the first request of each kind warms the isolate
// (config, signing key, ready state, block list), the next ones count. The events sent are then
// given to the gateway's own queue consumer in batches of the size wrangler.toml sets, with the
// recording DB, so that what the consumer writes is counted too.
import { createMessageBatch, createExecutionContext, env, getQueueResult } from "cloudflare:test";
import { expect, test } from "vitest";
import worker from "../src/dev";
import type { QueueMessage } from "../src/queue";
import { appToken, callWorker, keptQueue, randomUser } from "../test/helpers";
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
    // Unlimited: the link's own count is then no reason to write.
    body: JSON.stringify({ expiresIn: 3600 }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const share = await hot(`/s/${id}?mode=redirect`, async () => ({ method: "POST" }), 302);

  // A used-up link posted to a large audience: every POST after the first is answered from memory.
  const oneUse = await callWorker(recording, `/v1/videos/${VIDEO}/share-links`, {
    method: "POST",
    token: creator,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600, maxDownloads: 1 }),
  });
  const usedUp = ((await oneUse.json()) as { id: string }).id;
  expect((await callWorker(recording, `/s/${usedUp}?mode=redirect`, { method: "POST" })).status).toBe(302);
  expect((await callWorker(recording, `/s/${usedUp}?mode=redirect`, { method: "POST" })).status).toBe(410);
  recorder.trips = [];
  for (let i = 0; i < 1000; i++) expect((await callWorker(recording, `/s/${usedUp}?mode=redirect`, { method: "POST" })).status).toBe(410);
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
