// Limits that keep one client from spending what others need: per-user and per-IP rate limits
// (Workers Rate Limiting bindings, configured in wrangler.toml) on every route that can call
// Stream or write D1, checked right after identify.
import { clientNetwork } from "../http/networks";
import { retryLater } from "../problems";

/** The Workers Rate Limiting bindings the gateway counts with (wrangler.toml [[ratelimits]]). */
export interface RateLimiters {
  user: RateLimit;
  ip: RateLimit;
  /** Share-link password attempts, per link. */
  password: RateLimit;
}

/** The bindings count per minute (period 60 in wrangler.toml). */
const RATE_LIMIT_WINDOW_SECONDS = 60;

/**
 * Counts one request against the user's limit, then, if the user is within it, against the
 * network's: a user past their own limit does not spend what the others at their address
 * (an office, a campus behind one NAT) are allowed.
 */
export async function enforceRateLimits(limiters: RateLimiters, key: { user?: string; ip: string | null }): Promise<void> {
  const refused = () => retryLater("rate-limited", "Too many requests; slow down.", RATE_LIMIT_WINDOW_SECONDS);
  if (key.user !== undefined && !(await limiters.user.limit({ key: `user:${key.user}` })).success) throw refused();
  // Cloudflare always sets CF-Connecting-IP in production; without it there is nothing to key on.
  // An IPv6 client is its /64: one subscriber gets a whole /64, so its addresses are one client.
  if (key.ip && !(await limiters.ip.limit({ key: `ip:${clientNetwork(key.ip) ?? key.ip}` })).success) throw refused();
}
