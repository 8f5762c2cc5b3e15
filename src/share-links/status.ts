// Whether a share link can still be used, as one problem per reason (docs/http-api.md › Errors).
import type { ShareLink } from "./store";
import { Problem } from "../problems";
import type { LinkRefusal } from "./link-object";

/** Why a link cannot be used now, or null. */
export function linkRefusal(link: ShareLink, now: number): LinkRefusal | null {
  if (link.revokedAt !== null) return "link-revoked";
  if (link.suspension !== null) return "link-suspended";
  if (link.expiresAt <= now) return "link-expired";
  if (link.maxUses !== null && link.uses >= link.maxUses) return "link-exhausted";
  return null;
}

const DETAILS: Record<LinkRefusal, string> = {
  "link-revoked": "This link has been revoked.",
  "link-suspended": "This link was suspended because it was used from more places than the person who shared it allowed. Ask them to check it.",
  "link-expired": "This link has expired.",
  "link-exhausted": "This link has no downloads left.",
};

export const refusalProblem = (refusal: LinkRefusal): Problem => new Problem(refusal, DETAILS[refusal]);

export function linkProblem(link: ShareLink, now: number): Problem | null {
  const refusal = linkRefusal(link, now);
  return refusal === null ? null : refusalProblem(refusal);
}

export function remainingUses(link: ShareLink): number | null {
  return link.maxUses === null ? null : Math.max(0, link.maxUses - link.uses);
}

/** Unknown and malformed ids look the same. */
export const unknownLink = () => new Problem("not-found", "There is no such link.");
