// Step 6, record: a grant is written down before it is delivered: the audit row and one unit of
// the optional daily download quota (Stream bills every download as the video's full length),
// in one D1 batch.
import type { Config } from "../config";
import type { AuditEvent } from "./audit";
import { auditStatement } from "./audit";
import { quotaUsed, takeQuotaStatement } from "./quota-table";
import type { CreatorQuota } from "../share-links/store";
import type { Db } from "../db/types";
import { Problem, retryLater } from "../problems";

const DAY_MS = 86_400_000;

/** The UTC day a quota counts in. */
function quotaDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

function quotaUsedUp(limit: number, now: number, whose: "your" | "the link owner's"): Problem {
  const midnight = Date.parse(`${quotaDay(now)}T00:00:00Z`) + DAY_MS;
  return retryLater("quota-exceeded", `${whose === "your" ? "Your" : "The link owner's"} daily quota of ${limit} downloads is used up.`, Math.ceil((midnight - now) / 1000));
}

export const quotaExceeded = (config: Config, now: number): Problem => quotaUsedUp(config.dailyDownloadQuota ?? 0, now, "your");

/** The quota a share link's use takes from its creator, or null without a quota. */
export function creatorQuota(config: Config, now: number): CreatorQuota | null {
  return config.dailyDownloadQuota === null ? null : { day: quotaDay(now), limit: config.dailyDownloadQuota };
}

export const linkOwnerQuotaExceeded = (config: Config, now: number): Problem =>
  quotaUsedUp(config.dailyDownloadQuota ?? 0, now, "the link owner's");

/**
 * Records one grant to a signed-in user: one unit of the daily quota and the audit row, in one
 * batch, so that a grant is never handed out without both (and neither is written without the
 * other). The downloads left, or null without a quota; `quota-exceeded` when none is left.
 */
export async function recordUserGrant(db: Db, config: Config, event: AuditEvent & { user: string }): Promise<number | null> {
  const limit = config.dailyDownloadQuota;
  if (limit === null) {
    await auditStatement(db, event).run();
    return null;
  }
  const [taken] = await db.batch<{ used: number }>([
    takeQuotaStatement(db, event.user, quotaDay(event.at), limit),
    auditStatement(db, event, { afterChange: true }),
  ]);
  const used = taken?.results[0]?.used;
  if (used === undefined) throw quotaUsedUp(limit, event.at, "your");
  return limit - used;
}

/** The downloads the user has left today without taking one (HEAD), or null without a quota. */
export async function downloadsLeft(db: Db, config: Config, user: string, now: number): Promise<number | null> {
  const limit = config.dailyDownloadQuota;
  if (limit === null) return null;
  return Math.max(0, limit - (await quotaUsed(db, user, quotaDay(now))));
}
