// Step 2: may this user download this video? A claim in their app token or a D1 grant says yes;
// the admin kill switch says no for everyone. Unknown videos and refusals look the same.
import type { AppUser } from "../auth/identify";
import type { Config } from "../config";
import { isBlocked } from "../db/blocked";
import { findGrant } from "../db/grants";
import type { Db } from "../db/types";
import type { MemoryCache } from "../memory-cache";
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

export type EntitlementSource = "claim" | "grant";

export async function requireEntitlement(deps: EntitlementDeps, user: AppUser, video: string): Promise<EntitlementSource> {
  if (await videoBlocked(deps, video)) throw notEntitled();
  if (claimGrants(user, deps.config.auth.videosClaim, video)) return "claim";

  // Only live grants are cached, and only until they expire: a grant made a moment ago is
  // found at once, a revoked one lingers at most MEMORY_CACHE_SECONDS.
  const key = grantKey(user.id, video);
  const cached = deps.cache.get<number | null>(key, deps.now);
  if (cached !== undefined && (cached === null || cached > deps.now)) return "grant";
  const grant = await findGrant(deps.db, user.id, video, deps.now);
  if (grant === undefined) throw notEntitled();
  const { expiresAt } = grant;
  const ttl = Math.min(deps.config.memoryCacheSeconds * 1000, expiresAt === null ? Infinity : expiresAt - deps.now);
  deps.cache.set(key, expiresAt, ttl, deps.now);
  return "grant";
}
