// Whether a share link can still be used, as one problem per reason (docs/http-api.md › Errors).
import type { ShareLink } from "./store";
import { Problem } from "../problems";

export function linkProblem(link: ShareLink, now: number): Problem | null {
  if (link.revokedAt !== null) return new Problem("link-revoked", "This link has been revoked.");
  if (link.suspension !== null) {
    return new Problem("link-suspended", "This link was suspended because it was used from more places than the person who shared it allowed. Ask them to check it.");
  }
  if (link.expiresAt <= now) return new Problem("link-expired", "This link has expired.");
  if (link.maxUses !== null && link.uses >= link.maxUses) return new Problem("link-exhausted", "This link has no downloads left.");
  return null;
}

export function remainingUses(link: ShareLink): number | null {
  return link.maxUses === null ? null : Math.max(0, link.maxUses - link.uses);
}

/** Unknown and malformed ids look the same. */
export const unknownLink = () => new Problem("not-found", "There is no such link.");
