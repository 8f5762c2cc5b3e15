// Limits that keep one client from spending what others need: per-user and per-IP rate limits
// (Workers Rate Limiting bindings, configured in wrangler.toml) on every route that can call
// Stream or write D1, and the optional daily download quota, since Stream bills every download
// as the video's full length.
import type { Config } from "./config";
import type { AuditEvent } from "./db/audit";
import { auditStatement } from "./db/audit";
import { quotaUsed, takeQuotaStatement } from "./db/quota";
import type { CreatorQuota } from "./db/share-links";
import type { Db } from "./db/types";
import { Problem, retryLater } from "./problems";

/** The Workers Rate Limiting bindings the gateway counts with (wrangler.toml [[ratelimits]]). */
export interface RateLimiters {
  user: RateLimit;
  ip: RateLimit;
  /** Share-link password attempts, per link. */
  password: RateLimit;
}

/** The bindings count per minute (period 60 in wrangler.toml). */
const RATE_LIMIT_WINDOW_SECONDS = 60;
const DAY_MS = 86_400_000;

export async function enforceRateLimits(limiters: RateLimiters, key: { user?: string; ip: string | null }): Promise<void> {
  const checks: Promise<{ success: boolean }>[] = [];
  if (key.user !== undefined) checks.push(limiters.user.limit({ key: `user:${key.user}` }));
  // Cloudflare always sets CF-Connecting-IP in production; without it there is nothing to key on.
  if (key.ip) checks.push(limiters.ip.limit({ key: `ip:${key.ip}` }));
  const outcomes = await Promise.all(checks);
  if (outcomes.some((o) => !o.success)) {
    throw retryLater("rate-limited", "Too many requests; slow down.", RATE_LIMIT_WINDOW_SECONDS);
  }
}

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
