// What the admin API changes about who may download: grants and the kill switch. Each write
// goes with the invalidation of what this isolate has cached about it, so the change is seen
// here at once and elsewhere within MEMORY_CACHE_SECONDS.
import { blockVideo, unblockVideo } from "../entitle/blocked-table";
import { deleteGrants, upsertGrants, type Grant } from "../entitle/grants-table";
import type { RevokedLink } from "../share-links/store";
import type { ShareLinkStore } from "../share-links/link-store";
import { blockedKey, grantKey, type EntitlementDeps } from "../entitle/entitle";

export async function putGrants(deps: EntitlementDeps, grants: Grant[]): Promise<void> {
  await upsertGrants(deps.db, grants, deps.now);
  for (const g of grants) deps.cache.delete(grantKey(g.user, g.video));
}

/**
 * Deletes grants and revokes the share links made under them: a grant made again later is a new
 * grant (grantStillHeld), so those links could never work again, and "revoked" says so.
 * The number of grants that existed, and the links revoked.
 */
export async function removeGrants(deps: EntitlementDeps & { links: ShareLinkStore }, pairs: Array<{ user: string; video: string }>): Promise<{ deleted: number; revoked: RevokedLink[] }> {
  const deleted = await deleteGrants(deps.db, pairs);
  for (const g of pairs) deps.cache.delete(grantKey(g.user, g.video));
  const revoked = await Promise.all(pairs.map((g) => deps.links.revokeAll({ user: g.user, video: g.video, fromGrant: true }, deps.now)));
  return { deleted, revoked: revoked.flat() };
}

/**
 * The kill switch: nobody may download the video, and every share link of it ends for good
 * (unblocking does not revive them). The links it revoked.
 */
export async function block(deps: EntitlementDeps & { links: ShareLinkStore }, video: string, reason: string | null): Promise<RevokedLink[]> {
  await blockVideo(deps.db, video, deps.now, reason);
  deps.cache.set(blockedKey(video), true, deps.config.memoryCacheSeconds * 1000, deps.now);
  return deps.links.revokeAll({ video }, deps.now);
}

/** Whether the video was blocked. */
export async function unblock(deps: EntitlementDeps, video: string): Promise<boolean> {
  const unblocked = await unblockVideo(deps.db, video);
  deps.cache.delete(blockedKey(video));
  return unblocked;
}
