// Step 6, record: a grant is written down before it is delivered: one download of the daily
// quota when one is set (quota.ts), a share link's use, and the audit event (audit-queue.ts).
// None of it is a D1 write: a share link's use is one call to the link's object.
// Whatever was taken is given back when a later part fails, so a refused grant costs nothing.
import type { ShareLinkStore } from "../share-links/link-store";
import type { Redeemed, RedeemInput } from "../share-links/link-object";
import type { ShareLink } from "../share-links/store";
import type { AuditEvent } from "./audit";
import type { AuditSink } from "./audit-queue";
import type { DailyQuota } from "./quota";

export interface Recorder {
  quota: DailyQuota | null;
  audit: AuditSink;
  waitUntil(promise: Promise<unknown>): void;
}

/** Records one grant to a signed-in user: the downloads left today, or null without a quota. */
export async function recordUserGrant(r: Recorder, event: AuditEvent & { user: string }): Promise<number | null> {
  const left = r.quota === null ? null : await r.quota.take(event.user, event.at, "user");
  try {
    await r.audit.record(event, r.waitUntil);
  } catch (error) {
    await r.quota?.giveBack(event.user, event.at);
    throw error;
  }
  return left;
}

/**
 * Records one grant through a share link: a download of its creator's quota (provisional: taken
 * before the use is decided, given back when it is not), then the use, which the link's object
 * takes atomically with the grant and the audit event in its outbox (link-object.ts), then the
 * event, handed to the queue here. If it cannot be, the grant stands: the outbox has it, and the
 * object's alarm sends it. The object's answer: granted, with the link's uses after this one, or
 * refused, with why.
 */
export async function recordLinkGrant(r: Recorder, links: ShareLinkStore, link: ShareLink, input: Omit<RedeemInput, "windowMs">): Promise<Redeemed> {
  if (r.quota !== null) await r.quota.take(link.creator, input.now, "link owner");
  let redeemed: Redeemed | undefined;
  try {
    redeemed = await links.redeem(link, input);
  } finally {
    if (redeemed?.kind !== "granted") await r.quota?.giveBack(link.creator, input.now);
  }
  if (redeemed.kind !== "granted") return redeemed;
  try {
    await r.audit.record(input.event, r.waitUntil);
    r.waitUntil(links.sent(link.id, input.event.id));
  } catch {
    console.error("share link: a use's audit event waits in its link's outbox");
  }
  return redeemed;
}
