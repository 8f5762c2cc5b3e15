// The names of the gateway's crons and queues: the defaults, how a deployment's vars rename its
// queues, and which queues are the gateway's. Imports nothing and uses only erasable TypeScript,
// so that the scripts (Node 24 strips the types) and the CLI read these very lines.

export interface QueueNames {
  /** The queue AUDIT_QUEUE sends to; AUDIT_QUEUE_2 … _4, where bound, send to it with -2 … -4 added. */
  audit: string;
  /** That queue's dead-letter queue. */
  deadLetter: string;
  /** The queue Stream's event subscription publishes to (ensure/stream-events.ts). */
  streamEvents: string;
}

export interface CronNames {
  /** Deletes old audit rows, expired links and pins (daily). */
  retention: string;
  /** Asks Stream again for downloads a webhook left unfinished (every few minutes). */
  recheck: string;
}

export const DEFAULT_CRONS: CronNames = { retention: "17 3 * * *", recheck: "*/10 * * * *" };
export const DEFAULT_QUEUES: QueueNames = { audit: "stream-download-audit", deadLetter: "stream-download-audit-dlq", streamEvents: "stream-download-stream-events" };

/** The names given, the rest filled in: a renamed audit queue's dead-letter queue is its name with -dlq. */
export function queuesOf(named: Partial<QueueNames> = {}): QueueNames {
  const audit = named.audit ?? DEFAULT_QUEUES.audit;
  return {
    audit,
    deadLetter: named.deadLetter ?? `${audit}-dlq`,
    streamEvents: named.streamEvents ?? DEFAULT_QUEUES.streamEvents,
  };
}

/**
 * The queues a deployment's vars name (the reference Worker's AUDIT_QUEUE_NAME and
 * STREAM_EVENTS_QUEUE_NAME, as a staging environment's `-staging` queues): only those set and not blank.
 */
export function queuesNamedIn(vars: object): Partial<QueueNames> {
  const named = (name: string) => {
    const value: unknown = Reflect.get(vars, name);
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const [audit, streamEvents] = [named("AUDIT_QUEUE_NAME"), named("STREAM_EVENTS_QUEUE_NAME")];
  return { ...(audit === undefined ? {} : { audit }), ...(streamEvents === undefined ? {} : { streamEvents }) };
}

/** Cloudflare's rule for queue names: lowercase letters, digits and dashes, at most 63. */
export const isQueueName = (name: unknown): boolean => typeof name === "string" && /^[a-z0-9][a-z0-9-]{0,62}$/.test(name);

/** The audit queues the gateway consumes: the first, and its optional shards (record/audit-queue.ts). */
export const auditQueueNames = (queues: QueueNames): string[] => [queues.audit, ...[2, 3, 4].map((n) => `${queues.audit}-${n}`)];

/** Every queue whose batches are the gateway's. */
export const gatewayQueueNames = (queues: QueueNames): string[] => [...auditQueueNames(queues), queues.deadLetter, queues.streamEvents];
