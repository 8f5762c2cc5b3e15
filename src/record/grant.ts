// Step 6, record: a grant is written down before it is delivered: one download of the daily
// quota when one is set (quota.ts), a share link's use, and the audit event (audit-queue.ts).
// None of it is a D1 write on a signed-in download; a share link's use is one conditional UPDATE.
// Whatever was taken is given back when a later part fails, so a refused grant costs nothing.
import type { Db } from "../db/types";
import { giveBackUse, takeUse } from "../share-links/store";
import { linkRef } from "../share-links/ids";
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
 * before the use is decided, given back when it is not), one use of the link, the audit event.
 * The link's uses after this one, or null when it had none left (or had expired or been revoked
 * since it was read). The quota comes first because its give-back is a call to the creator's
 * object, where a use's give-back would be a second D1 write that could fail and leave a use
 * taken without a grant.
 */
export async function recordLinkGrant(r: Recorder, db: Db, link: { id: string; creator: string }, event: AuditEvent): Promise<number | null> {
  const { at } = event;
  if (r.quota !== null) await r.quota.take(link.creator, at, "link owner");
  const giveBackQuota = async () => r.quota?.giveBack(link.creator, at);
  let uses: number | null;
  try {
    uses = await takeUse(db, link.id, at);
  } catch (error) {
    await giveBackQuota();
    throw error;
  }
  if (uses === null) {
    await giveBackQuota();
    return null;
  }
  try {
    await r.audit.record(event, r.waitUntil);
  } catch (error) {
    await giveBackUse(db, link.id).catch((e: unknown) => console.error(`share link ${linkRef(link.id)}: a use could not be given back`, e instanceof Error ? e.message : e));
    await giveBackQuota();
    throw error;
  }
  return uses;
}
