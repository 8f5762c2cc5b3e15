// The fault run (issue "launch day"): a bounded load of downloads, signed-in and through share
// links, while the audit queue's consumer throws at random and D1 fails some of its batches,
// before or after writing them (chaos-worker.ts). Miniflare's queues retry each failed batch with
// the consumer's backoff, then hand it to the dead-letter queue, whose consumer writes it. Once
// the queues are quiet: audit rows = grants, link uses = audit rows, quota taken = grants, each
// event written once, and no request answered 500.
import { SELF, env } from "cloudflare:test";
import { expect, test } from "vitest";
import { linkByIdOrSecret, GATEWAY, appToken, callWorker, createShareLink, envWith, quotaUsed, randomUser, readyVideo, shareLinkRow } from "../helpers";

const QUOTA = 12;
const K = 7;
const WAVES = 8;
const IN_FLIGHT = 25;

interface Chaos {
  batches: number;
  deadLetterBatches: number;
  consumerThrew: number;
  failedBefore: number;
  failedAfter: number;
  doomedEvent: string | null;
}

const count = async (sql: string, ...values: unknown[]) =>
  (await env.DB.prepare(sql).bind(...values).first<{ n: number }>())?.n ?? 0;

test("under consumer and D1 faults: audit rows = grants = uses = quota taken, each event once, no 500", async () => {
  const uid = await readyVideo();
  const quota = envWith({ DAILY_DOWNLOAD_QUOTA: String(QUOTA) });
  const users = [randomUser(), randomUser(), randomUser()];
  const tokens = await Promise.all(users.map((u) => appToken(u, { videos: [uid] })));
  // Two links: K uses, and unlimited (whose grants are then capped by its creator's quota).
  const [limitedCreator, unlimitedCreator] = [randomUser(), randomUser()];
  const limited = (await createShareLink(uid, await appToken(limitedCreator, { videos: [uid] }), { maxDownloads: K })).secret;
  const unlimited = (await createShareLink(uid, await appToken(unlimitedCreator, { videos: [uid] }))).secret;

  const grants = new Map<string, number>();
  const statuses: number[] = [];
  const granted = (who: string) => grants.set(who, (grants.get(who) ?? 0) + 1);
  // Each request a network of its own, so that the per-IP limit stays out of the way and no link
  // hands a request the grant an earlier one from its network got (that would be no new grant).
  let requests = 0;
  const from = () => ({ "cf-connecting-ip": `203.${Math.floor(requests / 250)}.${requests++ % 250}.7` });
  const shots = [
    async (i: number) => {
      const res = await callWorker(quota, `/v1/videos/${uid}/download`, { token: tokens[i % 3], headers: from() });
      if (res.status === 302) granted(users[i % 3]!);
      return res;
    },
    async (i: number) => {
      const res = await callWorker(quota, `/v1/videos/${uid}/download-url`, { method: "POST", token: tokens[i % 3], headers: from() });
      if (res.status === 200) granted(users[i % 3]!);
      return res;
    },
    async () => {
      const res = await callWorker(quota, `/s/${limited}?mode=redirect`, { method: "POST", headers: from() });
      if (res.status === 302) granted(limited);
      return res;
    },
    async () => {
      const res = await callWorker(quota, `/s/${unlimited}?mode=stream`, { method: "POST", headers: from() });
      if (res.status === 303) granted(unlimited);
      return res;
    },
  ];
  for (let wave = 0; wave < WAVES; wave++) {
    const responses = await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => shots[(i + wave) % shots.length]!(i)));
    for (const res of responses) {
      statuses.push(res.status);
      await res.arrayBuffer();
    }
  }
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
  const total = [...grants.values()].reduce((a, b) => a + b, 0);
  expect(grants.get(limited)).toBe(K);
  for (const user of users) expect(grants.get(user)).toBe(QUOTA);
  expect(grants.get(unlimited)).toBe(QUOTA);

  const written = () =>
    count(
      `SELECT count(*) AS n FROM audit_events WHERE video_id = ?1 AND (link_id IN (${linkByIdOrSecret("?2")}, ${linkByIdOrSecret("?3")}) OR user_id IN (?4, ?5, ?6))`,
      uid,
      limited,
      unlimited,
      ...users,
    );
  // Retries wait 1, 2, 4… s (AUDIT_RETRY_SECONDS = 1), so a minute is plenty.
  const deadline = Date.now() + 60_000;
  while ((await written()) < total && Date.now() < deadline) await scheduler.wait(250);
  expect(await written()).toBe(total);
  // Quiet for a while: a batch still being retried must not add a second row.
  await scheduler.wait(3000);
  expect(await written()).toBe(total);

  for (const user of users) {
    expect(await count("SELECT count(*) AS n FROM audit_events WHERE user_id = ?1", user)).toBe(grants.get(user));
    expect(await quotaUsed(user)).toBe(grants.get(user));
  }
  for (const [link, creator] of [[limited, limitedCreator], [unlimited, unlimitedCreator]] as const) {
    const rows = await count(`SELECT count(*) AS n FROM audit_events WHERE link_id = ${linkByIdOrSecret("?1")}`, link);
    expect({ rows, uses: (await shareLinkRow(link)).uses, quota: await quotaUsed(creator) }).toEqual({
      rows: grants.get(link),
      uses: grants.get(link),
      quota: grants.get(link),
    });
  }
  expect(await count("SELECT count(*) AS n FROM audit_events WHERE video_id = ?1 AND event_id IS NULL", uid)).toBe(0);

  // Every kind of fault happens by construction (chaos-worker.ts); what must hold is that the
  // doomed first message went through the dead-letter queue and its event was written once.
  const chaos = (await (await SELF.fetch(`${GATEWAY}/__fault-run`)).json()) as Chaos;
  console.log(`fault run: ${total} grants; consumer ${JSON.stringify(chaos)}`);
  expect(chaos.deadLetterBatches).toBeGreaterThan(0);
  expect(chaos.doomedEvent).not.toBeNull();
  expect(await count("SELECT count(*) AS n FROM audit_events WHERE event_id = ?1", chaos.doomedEvent)).toBe(1);
}, 120_000);
