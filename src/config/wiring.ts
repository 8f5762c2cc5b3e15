// How the gateway is wired into a Worker besides its routes: the crons it acts on and the queues it
// consumes. Only these are the gateway's: a host's own crons never run retention, and a batch of a
// host's own queue is never taken (and dropped as malformed) by the gateway's consumer.
import { misconfigured } from "../problems";
import { auditQueueNames, DEFAULT_CRONS, isQueueName, queuesOf, type CronNames, type QueueNames } from "./wiring-names";

export interface Wiring {
  crons: CronNames;
  queues: QueueNames;
}

/** The options' wiring, checked: a wrong name would silently leave a queue or a cron unserved. */
export function wiringOf(options: { crons?: Partial<CronNames>; queues?: Partial<QueueNames> }): Wiring {
  const crons = { ...DEFAULT_CRONS, ...options.crons };
  for (const [name, cron] of Object.entries(crons)) {
    if (typeof cron !== "string" || cron.trim().split(/\s+/).length !== 5) throw misconfigured(`crons.${name}`, `crons.${name} must be a cron expression of five fields`);
  }
  if (crons.retention === crons.recheck) throw misconfigured("crons.recheck", "crons.recheck and crons.retention must differ");
  const queues = queuesOf(options.queues);
  for (const [name, queue] of Object.entries(queues)) {
    if (!isQueueName(queue)) throw misconfigured(`queues.${name}`, `queues.${name} must be a queue name (lowercase letters, digits, dashes)`);
  }
  if (queues.audit === queues.deadLetter) throw misconfigured("queues.deadLetter", "queues.deadLetter and queues.audit must differ");
  if ([...auditQueueNames(queues), queues.deadLetter].includes(queues.streamEvents)) {
    throw misconfigured("queues.streamEvents", "queues.streamEvents must differ from the audit queues");
  }
  return { crons, queues };
}
