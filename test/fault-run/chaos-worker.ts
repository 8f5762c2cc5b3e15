// The Worker of the fault run (fault-run.test.ts): the development Worker, except that its audit
// queue consumer throws at random (the runtime then delivers the whole batch again) and, in the
// consumer, D1 fails some batches: some before writing anything, some after writing everything
// (an answer lost on the way back, so the batch is written twice). Miniflare's real queues do the
// retrying and the dead-lettering.
import worker from "../../src/dev";

export { StreamApiBudget, UserQuota } from "../../src/dev";

const CONSUMER_THROWS = 0.2;
const FAILS_BEFORE = 0.2;
const FAILS_AFTER = 0.2;

/** What the chaos did, for the test to check that it happened (GET /__fault-run). */
const seen = { batches: 0, deadLetterBatches: 0, consumerThrew: 0, failedBefore: 0, failedAfter: 0 };

const injected = () => new Error("D1_ERROR: fault run");

function flaky(db: D1Database): D1Database {
  return new Proxy(db, {
    get(real, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const roll = Math.random();
          if (roll < FAILS_BEFORE) {
            seen.failedBefore++;
            throw injected();
          }
          const results = await real.batch(statements);
          if (roll < FAILS_BEFORE + FAILS_AFTER) {
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

// One flaky env per env, so that the gateway is built once for it as for any env.
const flakyEnvs = new WeakMap<Env, Env>();

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__fault-run") return Response.json(seen);
    return worker.fetch(request, env, ctx);
  },
  scheduled: worker.scheduled,
  async queue(batch, env, ctx) {
    seen.batches++;
    if (batch.queue.endsWith("-dlq")) seen.deadLetterBatches++;
    if (Math.random() < CONSUMER_THROWS) {
      seen.consumerThrew++;
      throw new Error("fault run: the consumer threw");
    }
    let flakyEnv = flakyEnvs.get(env);
    if (flakyEnv === undefined) {
      flakyEnv = { ...env, DB: flaky(env.DB) };
      flakyEnvs.set(env, flakyEnv);
    }
    await worker.queue(batch, flakyEnv, ctx);
  },
} satisfies ExportedHandler<Env>;
