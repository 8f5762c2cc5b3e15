// The gateway's queue (AUDIT_QUEUE, and its dead-letter queue, both consumed by this Worker)
// carries two kinds of message: audit events, written to D1 in one transaction per batch
// (record/audit-queue.ts), and the app's events, each POSTed to EVENTS_URL (events/delivery.ts).
// A written audit event becomes the app's `download.granted` event before it is acknowledged.
import * as z from "../input/zod";
import type { Gateway } from "../gateway/gateway";
import { AuditEventSchema, writeAuditBatch } from "../record/audit-queue";
import type { AuditEvent } from "../record/audit";
import { AppEventSchema, grantedEvent, type AppEvent } from "../events/events";
import { deliverEvents } from "../events/delivery";
import { gatewayQueueNames } from "../config/wiring-names";
import { applyStreamEvent } from "../ensure/stream-events";
import { errorText } from "../problems";

const QueueMessageSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("audit"), event: AuditEventSchema }),
  z.object({ kind: z.literal("event"), event: AppEventSchema }),
]);

/** Whether a batch comes from one of the gateway's queues (config/wiring.ts). */
export const gatewayQueue = (batch: MessageBatch<unknown>, gateway: Gateway): boolean => gatewayQueueNames(gateway.wiring.queues).includes(batch.queue);

export async function consumeQueue(batch: MessageBatch<unknown>, gateway: Gateway, now: number): Promise<void> {
  // Another queue's messages would be dropped below as malformed: refused whole instead, so that
  // they are retried (and their queue's dead-letter queue keeps them) while the wiring is fixed.
  if (!gatewayQueue(batch, gateway)) {
    throw new Error(
      `queue: the gateway was handed a batch of ${batch.queue}, which is not its queue (${gatewayQueueNames(gateway.wiring.queues).join(", ")}); see the queues option`,
    );
  }
  if (batch.queue === gateway.wiring.queues.streamEvents) return consumeStreamEvents(batch, gateway, now);
  const audit: Array<{ message: Message<unknown>; event: AuditEvent }> = [];
  const events: Array<{ message: Message<unknown>; event: AppEvent }> = [];
  for (const message of batch.messages) {
    const parsed = QueueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      // Only a producer of another version could send this; retrying cannot make it valid, and
      // it must not hold back the messages that are.
      // Its fields' names, not their values: a message may carry a share-link id, a capability.
      const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(body)").join(", ");
      console.error(`queue: dropped a malformed message ${message.id} from ${batch.queue} (${fields})`);
      message.ack();
    } else if (parsed.data.kind === "audit") audit.push({ message, event: parsed.data.event });
    else events.push({ message, event: parsed.data.event });
  }
  const { database, config, events: sink, eventPoster } = gateway;
  await Promise.all([
    writeAuditBatch(database, audit, now, config.auditRetrySeconds, (written) => gateway.links.countUses(linksOf(written)), (written) => sink.send(written.map(grantedEvent))),
    deliverEvents(events, eventPoster, database, now, config.auditRetrySeconds),
  ]);
}

/**
 * Stream's events, one at a time in order (a batch may hold a download's "created" and "ready").
 * One that fails (D1 refusing) is retried by the queue; the others are acknowledged.
 */
async function consumeStreamEvents(batch: MessageBatch<unknown>, gateway: Gateway, now: number): Promise<void> {
  const deps = { config: gateway.config, db: gateway.database, stream: gateway.stream, cache: gateway.cache, now };
  for (const message of batch.messages) {
    try {
      if ((await applyStreamEvent(deps, message.body)) === "ignored") console.warn(`stream events: ignored message ${message.id}`);
      message.ack();
    } catch (error) {
      console.error(`stream events: message ${message.id} failed; the queue retries it`, errorText(error));
      message.retry();
    }
  }
}

/** The share links a batch of audit events used. */
const linksOf = (events: AuditEvent[]): string[] => [...new Set(events.flatMap((event) => (event.link === null ? [] : [event.link])))];
