// Stream's event subscription to the gateway's queue (docs/stream-behaviour.md › Events): found,
// or created, through the Queues REST API (`…/queues`, `…/event_subscriptions/subscriptions`).
// Used by `npm run setup`, by `npm run dev` against the emulator, and checked by `npm run doctor`.
import { z } from "zod";
import { DEFAULT_QUEUES, queuesNamedIn, queuesOf } from "../../src/config/wiring-names.ts";
import { accountApi, shaped, StreamApiError } from "./cloudflare-api.mjs";

export const EVENTS_QUEUE = DEFAULT_QUEUES.streamEvents;

/** The queue a deployment's Worker takes Stream's events from (src/worker.ts): its STREAM_EVENTS_QUEUE_NAME, else the default. */
export const eventsQueueOf = (vars) => queuesOf(queuesNamedIn(vars)).streamEvents;

/** What the gateway learns from (src/ensure/stream-events.ts): the documented events, then the two only inferred. */
export const DOCUMENTED_EVENTS = ["video_state.ready", "video_state.updated", "video_state.errored", "download.created", "download.deleted"];
export const INFERRED_EVENTS = ["download.ready", "download.errored"];

const Queue = z.object({ queue_id: z.string(), queue_name: z.string() });
const Queues = z.array(Queue);
const Subscriptions = z.array(
  z.object({
    id: z.string(),
    enabled: z.boolean().optional(),
    source: z.object({ type: z.string() }),
    destination: z.object({ queue_id: z.string().optional(), queueId: z.string().optional() }),
    events: z.array(z.string()),
  }),
);

/** The subscription that sends Stream's events to `queueName`, and the queue; null parts where none. */
export async function findEventSubscription(account, queueName = EVENTS_QUEUE) {
  const call = accountApi(account);
  const queues = shaped(Queues, await call("GET", `/queues?name=${encodeURIComponent(queueName)}`), "GET …/queues");
  const queue = queues.find((q) => q.queue_name === queueName) ?? null;
  if (queue === null) return { queue: null, subscription: null };
  const subscriptions = shaped(Subscriptions, await call("GET", "/event_subscriptions/subscriptions?per_page=100"), "GET …/event_subscriptions/subscriptions");
  const subscription =
    subscriptions.find((s) => s.source.type === "stream" && (s.destination.queue_id ?? s.destination.queueId) === queue.queue_id) ?? null;
  return { queue, subscription };
}

/**
 * Makes sure Stream publishes the gateway's events to `queueName`: keeps a subscription that does,
 * creates the queue (Queues Write) and the subscription otherwise. Stream may refuse the two
 * inferred event types; the subscription is then made with the documented ones, and the gateway
 * keeps polling downloads in progress (it notices by itself).
 */
export async function ensureEventSubscription(account, { say, warn }, queueName = EVENTS_QUEUE) {
  const call = accountApi(account);
  let { queue, subscription } = await findEventSubscription(account, queueName);
  if (queue === null) {
    queue = shaped(Queue, await call("POST", "/queues", { queue_name: queueName }), "POST …/queues");
    say(`Events: created the queue ${queueName}.`);
  }
  if (subscription !== null) {
    const missing = DOCUMENTED_EVENTS.filter((e) => !subscription.events.includes(e));
    if (missing.length === 0 && subscription.enabled !== false) {
      say(`Events: Stream already publishes to ${queueName} (subscription ${subscription.id}); kept it.`);
      return subscription;
    }
    const edit = (events) => call("PATCH", `/event_subscriptions/subscriptions/${subscription.id}`, { enabled: true, events: [...new Set([...subscription.events, ...events])] });
    await withInferred(edit, warn);
    say(`Events: subscription ${subscription.id} now sends its video and download events to ${queueName}.`);
    return subscription;
  }
  const create = (events) =>
    call("POST", "/event_subscriptions/subscriptions", {
      name: "stream-download-gateway",
      enabled: true,
      source: { type: "stream" },
      destination: { type: "queues.queue", queue_id: queue.queue_id },
      events,
    });
  subscription = await withInferred(create, warn);
  say(`Events: Stream now publishes its video and download events to ${queueName}.`);
  return subscription;
}

/** `send` with every event the gateway wants; if Stream refuses the inferred two, with the documented ones. */
async function withInferred(send, warn) {
  try {
    return await send([...DOCUMENTED_EVENTS, ...INFERRED_EVENTS]);
  } catch (error) {
    if (!(error instanceof StreamApiError) || error.status !== 400) throw error;
    warn(`Events: Stream refused ${INFERRED_EVENTS.join(" and ")}; subscribing the documented events only. Downloads in progress are then polled, as without events.`);
    return send(DOCUMENTED_EVENTS);
  }
}
