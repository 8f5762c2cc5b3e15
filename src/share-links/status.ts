// Whether a share link can still be used, as one problem per reason (docs/http-api.md › Errors),
// and what the page a person then sees may say about it (pages/share-page.ts › deadEndPage).
import type { DownloadType } from "../config/config";
import type { ShareLink } from "./store";
import { Problem } from "../problems";

/** Why a link cannot be used now: what its object refuses a use or a fetch for, worded here. */
export type LinkRefusal = "link-revoked" | "link-suspended" | "link-expired" | "link-exhausted";

/** Why a link made under a revocable right is on hold (routes/share-page.ts › requireCreatorStillEntitled). */
export type PauseCause = "video-unavailable" | "access-lost";

/**
 * A link that cannot be used, with what its page may tell whoever holds the URL: only facts the
 * link's object holds, and per state only those that tell that person nothing the link did not
 * show while it worked (docs/http-api.md › Share links):
 * - used up, expired: the video's title (as it was when the link was made), the kind of file, how
 *   many downloads it allowed, when it expired. The link did its job or ran its time, and its
 *   landing page showed as much to whoever held it.
 * - revoked: when, and nothing of the file. A revocation withdraws what was shared (it went to
 *   the wrong person, or its video was blocked), so the page stops describing it at once.
 * - suspended: nothing. A link used from more places than allowed has travelled beyond the people
 *   it was meant for; those now holding it should learn no more than that it stopped.
 * - paused: why, and nothing of the file: its sharer no longer holds the right to it, or the video
 *   is held.
 * The title is the one the link keeps, so no dead end costs a read of the catalogue.
 */
export type DeadEnd =
  | { kind: "not-found" }
  | { kind: "link-exhausted"; type: DownloadType; allowed: number; title: string | null }
  | { kind: "link-expired"; type: DownloadType; at: number; title: string | null }
  | { kind: "link-revoked"; at: number }
  | { kind: "link-suspended" }
  | { kind: "link-paused"; because: PauseCause };

// For programs and logs; people read the page's own words, in their language.
const DETAILS: Record<LinkRefusal | "not-found", string> = {
  "not-found": "There is no such link.",
  "link-revoked": "The link was revoked and will not work again.",
  "link-suspended": "This link was suspended because it was used from more places than the person who shared it allowed. Ask them to check it.",
  "link-expired": "The link's expiry time has passed.",
  "link-exhausted": "Every download the link allowed has been used.",
};

const PAUSED: Record<PauseCause, string> = {
  "video-unavailable": "The video of this link is not available at the moment. The link works again if it becomes available.",
  "access-lost": "The person who shared this link no longer has access to this video. The link works again if their access returns.",
};

/** As problem+json for programs; the share routes render it as a page for people. */
export class UnusableLink extends Problem {
  constructor(readonly deadEnd: DeadEnd) {
    super(deadEnd.kind, deadEnd.kind === "link-paused" ? PAUSED[deadEnd.because] : DETAILS[deadEnd.kind]);
  }
}

// `?? null`: a link an object took over before titles were kept has none.
const expired = (link: ShareLink): Extract<DeadEnd, { kind: "link-expired" }> => ({ kind: "link-expired", type: link.type, at: link.expiresAt, title: link.title ?? null });

/** A link past its expiry, or so close to it that nothing is worth handing out. */
export const expiredLink = (link: ShareLink) => new UnusableLink(expired(link));

/** The one order of the checks: a revoked link says so even once it has also expired. */
function refused(link: ShareLink, now: number): Extract<DeadEnd, { kind: LinkRefusal }> | null {
  if (link.revokedAt !== null) return { kind: "link-revoked", at: link.revokedAt };
  if (link.suspension !== null) return { kind: "link-suspended" };
  if (link.expiresAt <= now) return expired(link);
  if (link.maxUses !== null && link.uses >= link.maxUses) return { kind: "link-exhausted", type: link.type, allowed: link.maxUses, title: link.title ?? null };
  return null;
}

/** Why a link cannot be used now, or null. */
export const linkRefusal = (link: ShareLink, now: number): LinkRefusal | null => refused(link, now)?.kind ?? null;

export function linkProblem(link: ShareLink, now: number): UnusableLink | null {
  const end = refused(link, now);
  return end === null ? null : new UnusableLink(end);
}

/** A grant URL's link refused, where the link itself is not at hand (routes/tickets.ts). */
export const refusalProblem = (refusal: LinkRefusal): Problem => new Problem(refusal, DETAILS[refusal]);

export const pausedLink = (because: PauseCause) => new UnusableLink({ kind: "link-paused", because });

export function remainingUses(link: ShareLink): number | null {
  return link.maxUses === null ? null : Math.max(0, link.maxUses - link.uses);
}

/** Unknown and malformed ids look the same. */
export const unknownLink = () => new UnusableLink({ kind: "not-found" });
