// Stream's event subscription to the gateway's queue (docs/stream-behaviour.md › Events): found,
// or created, through the Queues REST API (`…/queues`, `…/event_subscriptions/subscriptions`).
// Used by `npm run setup`, by `npm run dev` against the emulator, and checked by `npm run doctor`.
import { z } from "zod";

export const EVENTS_QUEUE = "stream-download-stream-events";
const API_TIMEOUT_MS = 30_000;

/** What the gateway learns from (src/ensure/stream-events.ts): the documented events, then the two only inferred. */
export const DOCUMENTED_EVENTS = ["video_state.ready", "video_state.updated", "video_state.errored", "download.created", "download.deleted"];
export const INFERRED_EVENTS = ["download.ready", "download.errored"];

const Envelope = z.object({
  success: z.boolean(),
  errors: z.array(z.object({ code: z.number().optional(), message: z.string().optional() })).default([]),
  result: z.unknown(),
});
const Queues = z.array(z.object({ queue_id: z.string(), queue_name: z.string() }));
const Subscriptions = z.array(
  z.object({
    id: z.string(),
    enabled: z.boolean().optional(),
    source: z.object({ type: z.string() }),
    destination: z.object({ queue_id: z.string().optional(), queueId: z.string().optional() }),
    events: z.array(z.string()),
  }),
);

export class EventSubscriptionError extends Error {
  constructor(request, status, errors) {
    super(`${request}: HTTP ${status}${errors.length ? ` (${errors.map((e) => `${e.code ?? "?"} ${e.message ?? ""}`.trim()).join("; ")})` : ""}`);
    this.status = status;
  }
}

function accountApi({ apiBase, accountId, apiToken }) {
  const base = `${apiBase.replace(/\/+$/, "")}/accounts/${encodeURIComponent(accountId)}`;
  return async function call(method, path, body) {
    const request = `${method} …${path}`;
    let res;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiToken}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch (error) {
      throw new EventSubscriptionError(request, 0, [{ message: `could not reach ${apiBase}: ${error.cause?.message ?? error.message}` }]);
    }
    const parsed = Envelope.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new EventSubscriptionError(request, res.status, []);
    if (!res.ok || !parsed.data.success) throw new EventSubscriptionError(request, res.status, parsed.data.errors);
    return parsed.data.result;
  };
}

/** The subscription that sends Stream's events to `queueName`, and the queue; null parts where none. */
export async function findEventSubscription(account, queueName = EVENTS_QUEUE) {
  const call = accountApi(account);
  const queue = Queues.parse(await call("GET", `/queues?name=${encodeURIComponent(queueName)}`)).find((q) => q.queue_name === queueName) ?? null;
  if (queue === null) return { queue: null, subscription: null };
  const subscriptions = Subscriptions.parse(await call("GET", "/event_subscriptions/subscriptions?per_page=100"));
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
    queue = z.object({ queue_id: z.string(), queue_name: z.string() }).parse(await call("POST", "/queues", { queue_name: queueName }));
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
    if (!(error instanceof EventSubscriptionError) || error.status !== 400) throw error;
    warn(`Events: Stream refused ${INFERRED_EVENTS.join(" and ")} (${error.message}); subscribing the documented events only. Downloads in progress are then polled, as without events.`);
    return send(DOCUMENTED_EVENTS);
  }
}
