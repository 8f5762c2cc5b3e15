// The audit trail through Cloudflare Queues (docs/design.md › Scale). D1 runs one query at a time,
// so a row written by every download would cap the gateway near 1,000 downloads a second: a
// request hands its event to the queue instead, and the consumer writes each batch (up to 100
// events) in one D1 transaction. Delivery is at least once; the event's id makes a batch that is
// written twice leave one row per event. A batch that cannot be written is retried with backoff,
// then goes to the dead-letter queue, whose consumer is this same code retrying a few times a day,
// slower than the queue's retention drains it (wrangler.toml). The queue carries the app's events
// too (src/app/queue.ts sorts a batch by kind).
import type { Db } from "../storage/d1";
import * as z from "../input/zod";
import { retryLater, errorText } from "../problems";
import { auditRowsStatement, auditStatement, CONSUMER_GRACE_MS, markSent, progressStatement, type AuditEvent } from "./audit";

/** Hands one event to the trail. */
export interface AuditSink {
  /** `waitUntil` carries the occasional check that the queue has a consumer past the response. */
  record(event: AuditEvent, waitUntil: (promise: Promise<unknown>) => void): Promise<void>;
  /** Events sent and not yet taken by the consumer, and when the oldest was sent; null where the queue cannot say. */
  backlog(): Promise<{ waiting: number; oldestSentAt: number | null } | null>;
}

/**
 * Sends to the queue; if the queue refuses, writes the row itself, so an event is never lost to
 * a queue outage; if D1 refuses too, the grant is not handed out (503), and the caller gives back
 * what it took.
 */
/** The queue's message for an audit event (src/app/queue.ts). */
export interface AuditMessage {
  kind: "audit";
  event: AuditEvent;
}

/**
 * The audit queues an event may go to: AUDIT_QUEUE and the optional AUDIT_QUEUE_2 … _4. Each
 * queue takes 5,000 messages a second (Cloudflare's Queues limits), and every download sends one:
 * an event goes to one of them by its id, so n queues carry n × 5,000 downloads a second.
 */
export const AUDIT_QUEUE_SHARDS = ["AUDIT_QUEUE_2", "AUDIT_QUEUE_3", "AUDIT_QUEUE_4"] as const;

/** Which of `count` queues an event goes to: spread evenly by its random id. */
const shardOf = (eventId: string, count: number) => {
  let hash = 0;
  for (let i = 0; i < eventId.length; i++) hash = (hash * 31 + eventId.charCodeAt(i)) | 0;
  return (hash >>> 0) % count;
};

export function auditSink(queues: readonly [Queue<AuditMessage>, ...Queue<AuditMessage>[]], db: D1Database, consumerExported: () => boolean): AuditSink {
  // A Worker that exports the app's `fetch` but not the gateway's `queue` still answers every
  // download while its events pile up unwritten. Once a minute per isolate, a send is marked in D1
  // and compared with the consumer's last batch; a missing consumer is logged once per isolate.
  // Where no consumer is known to run, each event is also written to D1 directly: once one is
  // seen missing, and, where the Worker was not built with `downloads.worker(app)` (a fetch-only
  // export, or handlers wired by hand), until one is seen writing after this isolate's first send.
  // Nothing then rests on a queue nobody consumes (or, under `wrangler dev`, one whose messages a
  // reload forgets). The event's id keeps one row.
  let markedAt = Number.NEGATIVE_INFINITY;
  let firstSentAt: number | null = null;
  let consumer: "unknown" | "seen" | "missing" = "unknown";
  let warned = false;
  const writeDirectly = () => consumer === "missing" || (consumer === "unknown" && !consumerExported());
  const watch = async (sentAt: number) => {
    const before = await markSent(db, sentAt);
    const wroteSince = before.writtenAt !== null && firstSentAt !== null && before.writtenAt >= firstSentAt;
    consumer = before.consumer === "misconfigured" ? "missing" : wroteSince || consumer === "seen" ? "seen" : "unknown";
    if (before.consumer !== "misconfigured" || warned) return;
    warned = true;
    console.error(
      `misconfigured: audit events sent ${Math.round((sentAt - (before.pendingSince ?? sentAt)) / 1000)} s ago are still not written and no queue consumer has run since: ` +
        "the Worker must export the gateway's queue handler (export default downloads.worker(app)) and consume its queues (npx stream-download-gateway init); " +
        "until then each audit event is also written to D1 directly, one write per download, while the app's events and share-link leak checks wait in the queue (docs/operations.md › Wiring)",
    );
  };
  return {
    async record(event, waitUntil) {
      try {
        // Taken before the send: a consumer's batch with this event is written after it.
        const sentAt = Date.now();
        await queues[shardOf(event.id, queues.length)]!.send({ kind: "audit", event }, { contentType: "json" });
        firstSentAt ??= sentAt;
        if (writeDirectly()) {
          waitUntil(auditStatement(db, event).run().catch((error: unknown) => console.error("audit: the direct write failed; the event waits in the queue", errorText(error))));
        }
        if (sentAt - markedAt >= CONSUMER_GRACE_MS) {
          markedAt = sentAt;
          waitUntil(watch(sentAt).catch((error: unknown) => console.error("audit: the consumer check failed", errorText(error))));
        }
        return;
      } catch (error) {
        console.error("audit queue refused an event; writing it to D1 directly", errorText(error));
      }
      try {
        await auditStatement(db, event).run();
      } catch (error) {
        console.error("audit event could not be recorded; the grant is refused", errorText(error));
        throw retryLater("upstream-unavailable", "The download could not be recorded. Try again shortly.", 5);
      }
    },
    async backlog() {
      try {
        const metrics = await Promise.all(queues.map((queue) => queue.metrics()));
        const oldest = metrics.flatMap((m) => (m.oldestMessageTimestamp === undefined ? [] : [m.oldestMessageTimestamp.getTime()]));
        return { waiting: metrics.reduce((sum, m) => sum + m.backlogCount, 0), oldestSentAt: oldest.length === 0 ? null : Math.min(...oldest) };
      } catch (error) {
        console.error("audit queue metrics unavailable", errorText(error));
        return null;
      }
    },
  };
}

export const AuditEventSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  at: z.number(),
  user: z.nullable(z.string()),
  link: z.nullable(z.string()),
  video: z.string(),
  type: z.string(),
  mode: z.string(),
  country: z.nullable(z.string()),
  network: z.nullable(z.string()),
  outcome: z.string(),
});

/** Seconds before a failed batch is tried again: doubling from `base`, at most an hour. */
export function retryDelaySeconds(attempts: number, base: number): number {
  return Math.min(3600, base * 2 ** Math.max(0, attempts - 1));
}

/**
 * Writes the batch's audit events in one transaction, with the statements `alongside` makes of
 * them (the share links' use counts: each link's uses are its audit rows) and the consumer's
 * progress (for the admin API's freshness), then runs `then` with them (the app's
 * `download.granted` events).
 * Every message is acknowledged only once both are done; on failure all are retried.
 */
export async function writeAuditBatch(
  db: Db,
  items: Array<{ message: Message<unknown>; event: AuditEvent }>,
  now: number,
  retryBaseSeconds: number,
  alongside: (events: AuditEvent[]) => D1PreparedStatement[],
  then: (events: AuditEvent[]) => Promise<void>,
): Promise<void> {
  if (items.length === 0) return;
  const oldest = Math.min(...items.map(({ message }) => message.timestamp.getTime()));
  try {
    const events = items.map(({ event }) => event);
    await db.batch([auditRowsStatement(db, events), ...alongside(events), progressStatement(db, now, oldest)]);
    await then(events);
  } catch (error) {
    const attempts = Math.max(...items.map(({ message }) => message.attempts));
    console.error(`audit: a batch of ${items.length} could not be written (attempt ${attempts}); retrying`, errorText(error));
    for (const { message } of items) message.retry({ delaySeconds: retryDelaySeconds(message.attempts, retryBaseSeconds) });
    return;
  }
  for (const { message } of items) message.ack();
}

