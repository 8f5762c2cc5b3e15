// The cron's retention (docs/design.md): audit rows past AUDIT_RETENTION_DAYS and share links expired
// for more than 30 days go; everything younger stays. Times are relative to the controller's
// scheduledTime, never the clock.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, test } from "vitest";
import { auditStatement } from "../../src/record/audit";
import worker from "../../src/index";
import { linkNames } from "../../src/share-links/ids";
import { appToken, download, envWith, randomUid, randomUser } from "../helpers";
import { counters, seedVideo, sleep } from "../emulator/helpers";

const DAY = 86_400_000;
// Far from the real clock, to show that scheduledTime, not Date.now(), sets the cutoffs.
const SCHEDULED = Date.parse("2031-06-15T03:17:00.000Z");

async function runCron(testEnv: Env = env, scheduledTime = SCHEDULED): Promise<void> {
  const controller = createScheduledController({ scheduledTime, cron: "17 3 * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, testEnv, ctx);
  await waitOnExecutionContext(ctx);
}

async function insertAudit(at: number, video: string): Promise<void> {
  await auditStatement(env.DB, { id: crypto.randomUUID(), at, user: "u", link: null, video, type: "default", mode: "redirect", country: null, network: null, outcome: "granted" }).run();
}

async function auditVideos(): Promise<string[]> {
  return (await env.DB.prepare("SELECT video_id FROM audit_events ORDER BY video_id").all<{ video_id: string }>()).results.map((r) => r.video_id);
}

async function insertLink(id: string, expiresAt: number): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO share_links (id, creator, video_id, type, created_at, expires_at) VALUES (?1, 'creator', ?2, 'default', ?3, ?4)`,
  )
    .bind(id, "c0ffee00000000000000000000000002", expiresAt - 7 * DAY, expiresAt)
    .run();
}

/** The links left, by the secret they were made with (a live one has moved to its public id meanwhile). */
async function linkIds(): Promise<string[]> {
  return (await env.DB.prepare("SELECT coalesce(secret, id) AS id FROM share_links ORDER BY 1").all<{ id: string }>()).results.map((r) => r.id);
}

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM audit_events"), env.DB.prepare("DELETE FROM share_links")]);
});

describe("audit retention", () => {
  test("rows older than AUDIT_RETENTION_DAYS (90) are deleted; the cutoff itself and newer rows stay", async () => {
    await insertAudit(SCHEDULED - 400 * DAY, "a-400-days");
    await insertAudit(SCHEDULED - 90 * DAY - 1, "b-90-days-and-1ms");
    await insertAudit(SCHEDULED - 90 * DAY, "c-exactly-90-days");
    await insertAudit(SCHEDULED - 89 * DAY, "d-89-days");
    await insertAudit(SCHEDULED, "e-now");
    await runCron();
    expect(await auditVideos()).toEqual(["c-exactly-90-days", "d-89-days", "e-now"]);
  });

  test("AUDIT_RETENTION_DAYS sets the cutoff", async () => {
    await insertAudit(SCHEDULED - 8 * DAY, "a-8-days");
    await insertAudit(SCHEDULED - 6 * DAY, "b-6-days");
    await runCron(envWith({ AUDIT_RETENTION_DAYS: "7" }));
    expect(await auditVideos()).toEqual(["b-6-days"]);
  });

  test("more rows than one batch are all deleted in one run", async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12001)
       INSERT INTO audit_events (at, video_id, type, mode, outcome) SELECT ?1 - i, 'old', 'default', 'redirect', 'granted' FROM n`,
    )
      .bind(SCHEDULED - 100 * DAY)
      .run();
    await insertAudit(SCHEDULED - DAY, "recent");
    await runCron();
    expect(await auditVideos()).toEqual(["recent"]);
  });

  test("a run scheduled a year earlier deletes nothing that was young then", async () => {
    await insertAudit(SCHEDULED - 100 * DAY, "old-now-young-then");
    await runCron(env, SCHEDULED - 365 * DAY);
    expect(await auditVideos()).toEqual(["old-now-young-then"]);
  });
});

describe("share link retention", () => {
  test("links expired more than 30 days ago are deleted; recently expired and live links stay", async () => {
    await insertLink("a-expired-31-days", SCHEDULED - 31 * DAY);
    await insertLink("b-expired-30-days-and-1ms", SCHEDULED - 30 * DAY - 1);
    await insertLink("c-expired-exactly-30-days", SCHEDULED - 30 * DAY);
    await insertLink("d-expired-yesterday", SCHEDULED - DAY);
    await insertLink("e-live", SCHEDULED + DAY);
    await runCron();
    expect(await linkIds()).toEqual(["c-expired-exactly-30-days", "d-expired-yesterday", "e-live"]);
  });

  test("more expired links than one batch are all deleted in one run", async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5003)
       INSERT INTO share_links (id, creator, video_id, type, created_at, expires_at)
       SELECT 'old-' || i, 'creator', 'c0ffee00000000000000000000000002', 'default', 0, ?1 - i FROM n`,
    )
      .bind(SCHEDULED - 40 * DAY)
      .run();
    await insertLink("live", SCHEDULED + DAY);
    await runCron();
    expect(await linkIds()).toEqual(["live"]);
  });

  test("a kept failed event from before public ids names its link by the public id, not the secret", async () => {
    const secret = "kept-failure-legacy-secret-00000";
    const event = { id: "evt_kept_legacy", type: "link.revoked", at: 1, data: { link: secret, video: "v", creator: "c", by: "admin" } };
    await env.DB.prepare("INSERT INTO event_failures (event_id, type, event, attempts, last_error, failed_at) VALUES (?1, 'link.revoked', ?2, 5, 'refused', ?3)")
      .bind(event.id, JSON.stringify(event), SCHEDULED)
      .run();
    await runCron();
    const kept = await env.DB.prepare("SELECT event FROM event_failures WHERE event_id = ?1").bind(event.id).first<{ event: string }>();
    expect(JSON.parse(kept!.event)).toEqual({ ...event, data: { ...event.data, link: (await linkNames(secret)).publicId } });
    await env.DB.prepare("DELETE FROM event_failures WHERE event_id = ?1").bind(event.id).run();
  });

  test("a live link from before public ids is moved: named by the digest of its secret, re-keyed so that older code refuses it", async () => {
    await insertLink("still-live-legacy-link-secret-00", SCHEDULED + DAY);
    await insertLink("expired-legacy-link-secret-0000", SCHEDULED - DAY);
    await runCron();
    const rows = await env.DB.prepare("SELECT id, public_id, secret FROM share_links ORDER BY expires_at").all<{ id: string; public_id: string | null; secret: string | null }>();
    const { publicId, rowKey } = await linkNames("still-live-legacy-link-secret-00");
    expect(rows.results).toEqual([
      { id: "expired-legacy-link-secret-0000", public_id: null, secret: null },
      { id: rowKey, public_id: publicId, secret: "still-live-legacy-link-secret-00" },
    ]);
  });
});

describe("the 10-minute re-check keeps the catalogue", () => {
  const recheck = async (testEnv: Env = env) => {
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/10 * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
  };

  test("one list call records the account's videos: a ready one's first download then costs only its create", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 60 });
    const before = (await counters()).byOperation["videos.list"] ?? 0;
    await recheck();
    expect(((await counters()).byOperation["videos.list"] ?? 0) - before).toBe(1);
    const token = await appToken(randomUser(), { videos: [uid] });
    expect((await download(uid, { token })).status).toBe(202);
    expect((await counters(uid)).byOperation).toEqual({ "downloads.create": 1 });
  });

  test("a row that says what Stream's list says, checked recently, is not written again; a row that differs is", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, name: "Quarterly review" });
    await recheck();
    const row = () => env.DB.prepare("SELECT name, checked_at FROM stream_videos WHERE uid = ?1").bind(uid).first<{ name: string; checked_at: number }>();
    const first = await row();
    expect(first?.name).toBe("Quarterly review");
    // The clock moves between runs, so that a row written again would show a later checked_at.
    await sleep(5);
    await recheck();
    expect(await row()).toEqual(first);
    await env.DB.prepare("UPDATE stream_videos SET name = 'stale' WHERE uid = ?1").bind(uid).run();
    await sleep(5);
    await recheck();
    const rewritten = await row();
    expect(rewritten?.name).toBe("Quarterly review");
    expect(rewritten!.checked_at).toBeGreaterThan(first!.checked_at);
  });

  test("a UID Stream said it does not know is forgotten after its window, so random UIDs leave nothing", async () => {
    const unknown = randomUid();
    expect((await download(unknown)).status).toBe(403);
    expect(await env.DB.prepare("SELECT known FROM stream_videos WHERE uid = ?1").bind(unknown).first()).toEqual({ known: 0 });
    await env.DB.prepare("UPDATE stream_videos SET checked_at = checked_at - 300001 WHERE uid = ?1").bind(unknown).run();
    await recheck();
    expect(await env.DB.prepare("SELECT known FROM stream_videos WHERE uid = ?1").bind(unknown).first()).toBeNull();
  });
});
