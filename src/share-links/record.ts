// Step 5 for a grant through a share link: its creator's quota, the link's use and the audit
// event. The use is one call to the link's object, which takes it atomically with the grant and
// keeps the event in its outbox until the queue has it.
import type { Recorder } from "../record/grant";
import type { ShareLinkStore } from "./link-store";
import type { Redeemed, RedeemInput } from "./link-object";
import type { ShareLink } from "./store";

/**
 * Records one grant through a share link: a download of its creator's quota (provisional: taken
 * before the use is decided, given back when it is not), then the use, which the link's object
 * takes atomically with the grant and the audit event in its outbox (link-object.ts), then the
 * event, handed to the queue here. If it cannot be, the grant stands: the outbox has it, and the
 * object's alarm sends it. The object's answer: granted, with the link's uses after this one, or
 * refused, with why.
 */
export async function recordLinkGrant(r: Recorder & { links: ShareLinkStore }, link: ShareLink, input: Omit<RedeemInput, "windowMs">): Promise<Redeemed> {
  const { links } = r;
  try {
    if (r.quota !== null) await r.quota.take(link.creator, input.event, "link owner");
  } catch (error) {
    // A grant handed back takes no quota: a network that holds one gets it even when none is left.
    // Asking is a courtesy: the answer stays the quota's when the link's object cannot say.
    const held = await links.handedBack(link.id, input.network, input.grantsUntil).catch(() => null);
    if (held?.handout == null) throw error;
    return { kind: "resumed", link: held.link, handout: held.handout };
  }
  let redeemed: Redeemed | undefined;
  try {
    redeemed = await links.redeem(link, input);
  } finally {
    if (redeemed?.kind !== "granted") await r.quota?.giveBack(link.creator, input.event);
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
