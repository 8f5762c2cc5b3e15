// The Worker of the fault run (fault-run.test.ts): the development Worker, except that its audit
// queue consumer crashes at random (the runtime then delivers the whole batch again) and, in the
// consumer, D1 fails some batches: some before writing anything, some after writing everything
// (an answer lost on the way back, so the batch is written twice). Miniflare's real queues do the
// retrying and the dead-lettering. So that every kind of fault happens in every run, the first
// three deliveries meet one kind each, and every delivery of the first message from the main queue
// fails, which sends its batch to the dead-letter queue.
import worker from "../../src/dev";

export { ShareLinkObject, StreamApiBudget, UserQuota } from "../../src/dev";

const CONSUMER_THROWS = 0.2;
const FAILS_BEFORE = 0.2;
const FAILS_AFTER = 0.2;

/**
 * What the chaos did (GET /__fault-run): the counts for the run's log, and the audit event id of
 * the doomed first message, whose row the test expects written once, by the dead-letter consumer.
 */
const seen = { batches: 0, deadLetterBatches: 0, consumerThrew: 0, failedBefore: 0, failedAfter: 0, doomedEvent: null as string | null };

const injected = () => new Error("D1_ERROR: fault run");

type Fault = "throw" | "before" | "after" | "none";
const FIRST: Fault[] = ["throw", "before", "after"];
let deliveries = 0;
let doomed: string | undefined;

function nextFault(batch: MessageBatch<unknown>): Fault {
  const forced = FIRST[deliveries++];
  if (forced !== undefined) return forced;
  // The dead-letter queue's consumer is the same code, and its retries back off for up to an hour:
  // faults there would only make the run outlast its minute.
  if (batch.queue.endsWith("-dlq")) return "none";
  if (batch.messages.some((m) => m.id === doomed)) return Math.random() < 0.5 ? "throw" : "before";
  if (Math.random() < CONSUMER_THROWS) return "throw";
  const roll = Math.random();
  return roll < FAILS_BEFORE ? "before" : roll < FAILS_BEFORE + FAILS_AFTER ? "after" : "none";
}

/** `db`, whose next batch meets `fault`. */
function flaky(db: D1Database, fault: Fault): D1Database {
  return new Proxy(db, {
    get(real, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (fault === "before") {
            seen.failedBefore++;
            throw injected();
          }
          const results = await real.batch(statements);
          if (fault === "after") {
            seen.failedAfter++;
            throw injected();
          }
          return results;
        };
      }
      const value: unknown = Reflect.get(real, prop, real);
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
}

// The gateway is built once per env object: each fault's env is made once.
const faultEnvs = new Map<Fault, Env>();

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__fault-run") return Response.json(seen);
    return worker.fetch(request, env, ctx);
  },
  scheduled: worker.scheduled,
  async queue(batch, env, ctx) {
    seen.batches++;
    if (batch.queue.endsWith("-dlq")) seen.deadLetterBatches++;
    if (doomed === undefined && batch.messages[0] !== undefined) {
      doomed = batch.messages[0].id;
      seen.doomedEvent = (batch.messages[0].body as { event: { id: string } }).event.id;
    }
    const fault = nextFault(batch);
    if (fault === "throw") {
      seen.consumerThrew++;
      // What the runtime does when a consumer throws before acknowledging anything: the whole batch
      // counts a failed attempt and comes again. Asked for, rather than thrown, so that workerd does
      // not print a stack trace for each of these planned crashes in every test run.
      batch.retryAll();
      return;
    }
    let faultEnv = faultEnvs.get(fault);
    if (faultEnv === undefined) {
      faultEnv = { ...env, DB: flaky(env.DB, fault) };
      faultEnvs.set(fault, faultEnv);
    }
    await worker.queue(batch, faultEnv, ctx);
  },
} satisfies ExportedHandler<Env>;
