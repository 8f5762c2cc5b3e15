// Step 5, record: a grant is written down before it is delivered: one download of the daily
// quota when one is set (quota.ts) and the audit event (audit-queue.ts); a share link's use is
// recorded with them by share-links/record.ts. None of it is a D1 write.
// Whatever was taken is given back when a later part fails, so a refused grant costs nothing.
import type { ClientInfo } from "../http/client";
import type { GrantRequest } from "../mint/grant";
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
  const left = r.quota === null ? null : await r.quota.take(event.user, event, "user");
  try {
    await r.audit.record(event, r.waitUntil);
  } catch (error) {
    await r.quota?.giveBack(event.user, event);
    throw error;
  }
  return left;
}

/** Who asked, and when. */
interface GrantContext {
  now: number;
  client: ClientInfo;
}

/**
 * The audit event of a grant about to be recorded: by a signed-in user or through a share link,
 * answered in a delivery mode or as a URL (`download-url`), from the requester's country and
 * coarse network.
 */
export function grantAudit(d: GrantContext, g: GrantRequest, answer: string, by: { user: string }): AuditEvent & { user: string };
export function grantAudit(d: GrantContext, g: GrantRequest, answer: string, by: { link: string }): AuditEvent & { link: string };
export function grantAudit(d: GrantContext, g: GrantRequest, answer: string, by: { user: string } | { link: string }): AuditEvent {
  return {
    id: crypto.randomUUID(),
    at: d.now,
    user: "user" in by ? by.user : null,
    link: "link" in by ? by.link : null,
    video: g.video,
    type: g.type,
    mode: answer,
    country: d.client.country,
    network: d.client.network,
    outcome: "granted",
  };
}
