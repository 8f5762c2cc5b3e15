// How the gateway is wired into a Worker besides its routes: the crons it acts on and the queues it
// consumes. Only these are the gateway's: a host's own crons never run retention, and a batch of a
// host's own queue is never taken (and dropped as malformed) by the gateway's consumer.
import { misconfigured } from "../problems";

export interface Wiring {
  crons: {
    /** Deletes old audit rows, expired links and pins (daily). */
    retention: string;
    /** Asks Stream again for downloads a webhook left unfinished (every few minutes). */
    recheck: string;
  };
  queues: {
    /** The queue AUDIT_QUEUE sends to; AUDIT_QUEUE_2 … _4, where bound, send to it with -2 … -4 added. */
    audit: string;
    /** That queue's dead-letter queue. */
    deadLetter: string;
    /** The queue Stream's event subscription publishes to (stream-events.ts). */
    streamEvents: string;
  };
}

export const DEFAULT_CRONS: Wiring["crons"] = { retention: "17 3 * * *", recheck: "*/10 * * * *" };
export const DEFAULT_QUEUES: Wiring["queues"] = { audit: "stream-download-audit", deadLetter: "stream-download-audit-dlq", streamEvents: "stream-download-stream-events" };

/** Cloudflare's rule for queue names: lowercase letters, digits and dashes. */
const QUEUE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The options' wiring, checked: a wrong name would silently leave a queue or a cron unserved. */
export function wiringOf(options: { crons?: Partial<Wiring["crons"]>; queues?: Partial<Wiring["queues"]> }): Wiring {
  const crons = { ...DEFAULT_CRONS, ...options.crons };
  for (const [name, cron] of Object.entries(crons)) {
    if (typeof cron !== "string" || cron.trim().split(/\s+/).length !== 5) throw misconfigured(`crons.${name}`, `crons.${name} must be a cron expression of five fields`);
  }
  if (crons.retention === crons.recheck) throw misconfigured("crons.recheck", "crons.recheck and crons.retention must differ");
  const audit = options.queues?.audit ?? DEFAULT_QUEUES.audit;
  const queues = {
    audit,
    deadLetter: options.queues?.deadLetter ?? (options.queues?.audit === undefined ? DEFAULT_QUEUES.deadLetter : `${audit}-dlq`),
    streamEvents: options.queues?.streamEvents ?? DEFAULT_QUEUES.streamEvents,
  };
  for (const [name, queue] of Object.entries(queues)) {
    if (typeof queue !== "string" || !QUEUE_NAME.test(queue)) throw misconfigured(`queues.${name}`, `queues.${name} must be a queue name (lowercase letters, digits, dashes)`);
  }
  if (queues.audit === queues.deadLetter) throw misconfigured("queues.deadLetter", "queues.deadLetter and queues.audit must differ");
  if (gatewayQueueNames({ ...queues, streamEvents: "" }).includes(queues.streamEvents)) {
    throw misconfigured("queues.streamEvents", "queues.streamEvents must differ from the audit queues");
  }
  return { crons, queues };
}

/** The audit queues the gateway consumes: the first, and its optional shards (audit-queue.ts). */
export const auditQueueNames = (queues: Wiring["queues"]): string[] => [queues.audit, ...[2, 3, 4].map((n) => `${queues.audit}-${n}`)];

/** Every queue whose batches are the gateway's. */
export const gatewayQueueNames = (queues: Wiring["queues"]): string[] => [...auditQueueNames(queues), queues.deadLetter, queues.streamEvents];
