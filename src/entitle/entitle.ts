// Step 2: may this user download this video? By default a claim in their app token or a D1 grant
// says yes (an app may replace that: library options); the admin kill switch says no for
// everyone. Unknown videos and refusals look the same.
import type { AppUser } from "../identify/app-token";
import type { Config } from "../config/config";
import { isBlocked } from "./blocked-table";
import { findGrant } from "./grants-table";
import type { Db } from "../storage/d1";
import type { MemoryCache } from "../storage/memory-cache";
import { Problem } from "../problems";

export interface EntitlementDeps {
  config: Config;
  db: Db;
  cache: MemoryCache;
  now: number;
}

export const blockedKey = (video: string) => `blocked:${video}`;
export const grantKey = (user: string, video: string) => `grant:${user}:${video}`;

const notEntitled = () => new Problem("not-entitled", "You are not entitled to download this video.");

/** Whether the admin kill switch refuses the video; cached either way, so the hot path skips D1. */
export async function videoBlocked(deps: EntitlementDeps, video: string): Promise<boolean> {
  const cached = deps.cache.get<boolean>(blockedKey(video), deps.now);
  if (cached !== undefined) return cached;
  const blocked = await isBlocked(deps.db, video);
  deps.cache.set(blockedKey(video), blocked, deps.config.memoryCacheSeconds * 1000, deps.now);
  return blocked;
}

function claimGrants(user: AppUser, claim: string, video: string): boolean {
  const value = user.claims[claim];
  // "*" means every video this gateway may serve: account-wide (README).
  return value === "*" || (Array.isArray(value) && value.includes(video));
}

/**
 * How a user is entitled: "claim" travels in their token and needs no re-check; "grant" is held
 * by the app (a D1 grant, a purchase) and can be taken back, so share links made under it are
 * re-checked whenever they are used.
 */
export type EntitlementSource = "claim" | "grant";

/** May `user` download `video`? The source of the right, or null. The app's hook (app/hooks.ts) is held to this. */
export type Entitle<C = unknown> = (user: AppUser, video: string, c: C) => Promise<EntitlementSource | null>;

/** Does a share link's creator still hold the right the link was made under? Asked only for links made under a "grant". */
export type StillEntitled<C = unknown> = (link: { creator: string; video: string; createdAt: number }, c: C) => Promise<boolean>;

/** The default: the `videos` claim, then a live D1 grant (cached while it lives). */
export async function claimOrGrant(deps: EntitlementDeps, videosClaim: string, user: AppUser, video: string): Promise<EntitlementSource | null> {
  if (claimGrants(user, videosClaim, video)) return "claim";
  // Only live grants are cached, and only until they expire: a grant made a moment ago is
  // found at once, a revoked one lingers at most MEMORY_CACHE_SECONDS.
  const key = grantKey(user.id, video);
  const cached = deps.cache.get<number | null>(key, deps.now);
  if (cached !== undefined && (cached === null || cached > deps.now)) return "grant";
  const grant = await findGrant(deps.db, user.id, video, deps.now);
  if (grant === undefined) return null;
  const { expiresAt } = grant;
  const ttl = Math.min(deps.config.memoryCacheSeconds * 1000, expiresAt === null ? Infinity : expiresAt - deps.now);
  deps.cache.set(key, expiresAt, ttl, deps.now);
  return "grant";
}

/**
 * The default re-check: the creator still holds that D1 grant. One deleted and made again later
 * is a new grant, which does not revive the old one's links.
 */
export async function grantStillHeld(deps: EntitlementDeps, link: { creator: string; video: string; createdAt: number }): Promise<boolean> {
  const grant = await findGrant(deps.db, link.creator, link.video, deps.now);
  return grant !== undefined && grant.createdAt <= link.createdAt;
}

/** Step 2: the kill switch refuses everyone; otherwise the entitlement hook decides. */
export async function requireEntitlement<C>(
  deps: EntitlementDeps & { entitle: Entitle<C> },
  user: AppUser,
  video: string,
  c: C,
): Promise<EntitlementSource> {
  if (await videoBlocked(deps, video)) throw notEntitled();
  const source = await deps.entitle(user, video, c);
  if (source === null) throw notEntitled();
  return source;
}
