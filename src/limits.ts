// Limits on the download path: per-user and per-IP rate limits (Workers Rate Limiting
// bindings, configured in wrangler.toml) and the optional daily download quota, since Stream
// bills every download as the video's full length.
import type { Config } from "./config";
import { takeQuota } from "./db/quota";
import type { Db } from "./db/types";
import { retryLater } from "./problems";

export interface RateLimiters {
  USER_RATE_LIMITER: RateLimit;
  IP_RATE_LIMITER: RateLimit;
}

/** The bindings count per minute (period 60 in wrangler.toml). */
const RATE_LIMIT_WINDOW_SECONDS = 60;

export async function enforceRateLimits(limiters: RateLimiters, key: { user?: string; ip: string | null }): Promise<void> {
  const checks: Promise<{ success: boolean }>[] = [];
  if (key.user !== undefined) checks.push(limiters.USER_RATE_LIMITER.limit({ key: `user:${key.user}` }));
  // Cloudflare always sets CF-Connecting-IP in production; without it there is nothing to key on.
  if (key.ip) checks.push(limiters.IP_RATE_LIMITER.limit({ key: `ip:${key.ip}` }));
  const outcomes = await Promise.all(checks);
  if (outcomes.some((o) => !o.success)) {
    throw retryLater("rate-limited", "Too many download requests; slow down.", RATE_LIMIT_WINDOW_SECONDS);
  }
}

/** Takes one download from the user's daily quota; the downloads left, or null without a quota. */
export async function takeDailyDownload(db: Db, config: Config, user: string, now: number): Promise<number | null> {
  const limit = config.dailyDownloadQuota;
  if (limit === null) return null;
  const day = new Date(now).toISOString().slice(0, 10);
  const remaining = await takeQuota(db, user, day, limit);
  if (remaining === null) {
    const midnight = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
    throw retryLater("quota-exceeded", `The daily quota of ${limit} downloads is used up.`, Math.ceil((midnight - now) / 1000));
  }
  return remaining;
}
