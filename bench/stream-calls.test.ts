// Stream API calls the gateway makes (bench/README.md): per prepared download, with Stream's events
// and without, and per 1,000 status requests for UIDs Stream does not know. Counted by the emulator
// (a local simulation of Stream, with its events published into the gateway's local queue), with
// the shares and budget wrangler.toml ships.
import { env } from "cloudflare:test";
import { expect, test } from "vitest";
import { ensureEventSubscription } from "../scripts/lib/event-subscription.mjs";
import { counters, seedVideo, sleep } from "../test/emulator/helpers";
import { appToken, callWorker, envWith, randomUid, randomUser, resetStreamBudget } from "../test/helpers";
import { unsubscribeAll } from "../test/subscriptions";

const SHIPPED = { STREAM_API_BUDGET: "900", STREAM_API_USER_SHARE: "10", STREAM_API_NETWORK_SHARE: "200", POLL_INTERVAL_SECONDS: "5" };
const DOWNLOADS = 3;
const GENERATION_SECONDS = 6;

async function subscribed(on: boolean): Promise<void> {
  const account = { apiBase: "https://api.cloudflare.com/client/v4", accountId: env.STREAM_ACCOUNT_ID, apiToken: env.STREAM_API_TOKEN };
  await unsubscribeAll(account);
  await env.DB.prepare("DELETE FROM stream_events").run();
  if (on) await ensureEventSubscription(account, { say: () => {}, warn: () => {} });
}

/** One user's download of a video whose MP4 takes GENERATION_SECONDS, asked again as Retry-After says; Stream API calls for it. */
async function preparedDownload(gateway: Env): Promise<number> {
  const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: GENERATION_SECONDS });
  const token = await appToken(randomUser(), { videos: [uid] });
  for (let asks = 0; asks < 60; asks++) {
    const res = await callWorker(gateway, `/v1/videos/${uid}/download`, { token });
    await res.arrayBuffer();
    if (res.status === 302) return (await counters(uid)).api;
    expect(res.status).toBe(202);
    await sleep(Number(res.headers.get("retry-after")) * 1000);
  }
  throw new Error(`${uid} never became ready`);
}

test("Stream API calls per prepared download, with and without Stream's events", { timeout: 180_000 }, async () => {
  const perDownload: Record<string, number> = {};
  for (const events of [true, false]) {
    await subscribed(events);
    // A gateway of its own per reading: isolate memory remembers whether events are live.
    const gateway = envWith(SHIPPED);
    if (events) await preparedDownload(gateway); // the first download is what shows the events are live
    let calls = 0;
    for (let i = 0; i < DOWNLOADS; i++) calls += await preparedDownload(gateway);
    perDownload[events ? "events" : "polling"] = calls / DOWNLOADS;
  }
  await subscribed(false);
  console.log(`Stream API calls per prepared download (${GENERATION_SECONDS} s to generate): ${perDownload["events"]} with Stream's events, ${perDownload["polling"]} polling every POLL_INTERVAL_SECONDS (5)`);
  expect(perDownload["events"]).toBeLessThanOrEqual(2);
});

test("Stream API calls per 1,000 status requests for unknown UIDs", { timeout: 180_000 }, async () => {
  const measure = async (users: number, uids: string[]) => {
    await resetStreamBudget();
    const gateway = envWith(SHIPPED);
    const before = (await counters()).api;
    const tokens = await Promise.all(Array.from({ length: users }, () => appToken(randomUser(), { videos: "*" })));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const user = i % users;
      // Each user on a network of its own, as many accounts would be.
      const res = await callWorker(gateway, `/v1/videos/${uids[i % uids.length]}/downloads`, { token: tokens[user], headers: { "cf-connecting-ip": `198.51.100.${user + 1}` } });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    const after = (await counters()).api;
    return { calls: after - before, statuses: Object.fromEntries(statuses) };
  };
  const distinct = await measure(20, Array.from({ length: 1000 }, randomUid));
  const repeated = await measure(100, Array.from({ length: 50 }, randomUid));
  await resetStreamBudget();
  console.log(`Stream API calls per 1,000 status requests for unknown UIDs: ${distinct.calls} for 1,000 random UIDs from 20 users (answers ${JSON.stringify(distinct.statuses)}); ${repeated.calls} for 50 UIDs asked 20 times each by 100 users`);
  // Every request answered as Stream's answer or the user's spent share say, none by a failure;
  // the calls made, each user's share and no more.
  for (const { statuses } of [distinct, repeated]) {
    expect(Object.keys(statuses).filter((status) => status !== "403" && status !== "429")).toEqual([]);
    expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(1000);
  }
  expect(distinct.calls).toBeGreaterThan(0);
  expect(distinct.calls).toBeLessThanOrEqual(20 * 10);
  expect(repeated.calls).toBeGreaterThan(0);
  expect(repeated.calls).toBeLessThanOrEqual(50);
});
