// What a route declares it needs before its handler runs (Hono middleware, in the order listed):
// `videoParam` first on every :uid route (the UID goes into Stream API paths, so it is checked
// before any I/O); `refuseCrossSite` on every route that changes state or hands a grant to a
// signed-in user; `requireUser` on a user's routes (step 1 and the limits: the user on the
// context, counted per user, then per network); `ipLimit` on anonymous routes that can call
// Stream or write state; `identifyOnly` on the demo's feed alone.
import type { MiddlewareHandler } from "hono";
import { deps, type AppEnv } from "../gateway/context";
import type { AppUser } from "../identify/app-token";
import { foreignRequest } from "../identify/cross-site";
import { parseUid } from "../input/validate";
import { enforceRateLimits } from "../limits/rate-limits";
import { Problem } from "../problems";

/** A route behind `requireUser`: `c.var.user` is the caller. */
export type UserEnv = AppEnv & { Variables: { user: AppUser } };

/** A :uid route's video, checked before anything else: `c.var.video`. */
export const videoParam: MiddlewareHandler<AppEnv & { Variables: { video: string } }> = async (c, next) => {
  c.set("video", parseUid(c.req.param("uid")));
  await next();
};

/** Refused before any identify runs, whatever the app's hook does with its cookie (identify/cross-site.ts). */
export const refuseCrossSite: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (foreignRequest(c.req.raw, c.get("gateway").config.corsOrigins)) {
    throw new Problem("cross-site-request", "Another site started this request; it may only come from this site or the app's own origins.");
  }
  await next();
};

/**
 * Identifies the caller (401 without a user) and counts the request against the user's and the
 * network's limits (429). `allowCookie`: whether the app's session cookie may identify them,
 * which only a GET may allow; every POST needs the bearer header.
 */
export function requireUser(options: { allowCookie: boolean }): MiddlewareHandler<UserEnv> {
  return async (c, next) => {
    const d = deps(c);
    const user = await d.identify(c, options);
    await enforceRateLimits(d.limiters, { user: user.id, ip: d.client.ip });
    c.set("user", user);
    await next();
  };
}

/**
 * Identifies the caller (401 without a user) without counting the request: only for the demo's
 * feed of the events it received (kept in memory, never deployed), which costs neither Stream nor
 * storage. Counted, the demo page's refresh after each click spent the user's allowance for the
 * downloads it shows.
 */
export function identifyOnly(options: { allowCookie: boolean }): MiddlewareHandler<UserEnv> {
  return async (c, next) => {
    c.set("user", await deps(c).identify(c, options));
    await next();
  };
}

/** An anonymous route's limit: per network (an IPv4 address, an IPv6 /64). */
export const ipLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const d = deps(c);
  await enforceRateLimits(d.limiters, { ip: d.client.ip });
  await next();
};
