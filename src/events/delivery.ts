// Delivering the app's events: each one POSTed to EVENTS_URL with the Standard Webhooks headers
// (`webhook-id` = the event's id, the same on every attempt), answered 2xx or tried again later
// with backoff. After EVENT_ATTEMPTS tries the event is written to `event_failures` (the admin
// API lists them and can send them again), so a delivery that finally fails is never silent.
import type { Db } from "../storage/d1";
import { createStandardWebhookSigner } from "../http/standard-webhooks";
import type { EventsConfig } from "../config/config";
import { retryDelaySeconds } from "../record/audit-queue";
import type { AppEvent } from "./events";
import { recordFailure } from "./failures";
import { errorText } from "../problems";

/**
 * Tries per event. The queue (wrangler.toml `max_retries = 5`) delivers a message 6 times before
 * moving it to the dead-letter queue: the 6th failure is recorded here first, so an event that
 * cannot be delivered ends in `event_failures`, not in the dead-letter queue.
 */
export const EVENT_ATTEMPTS = 6;
const TIMEOUT_MS = 10_000;
/** POSTs in flight at once: a Worker opens about six connections at a time, and a POST waiting for one must not spend its own timeout there. */
const IN_FLIGHT = 5;

/** POSTs one event; throws with the reason when the app does not answer 2xx. */
export type EventPoster = (event: AppEvent, now: number) => Promise<void>;

export function eventPoster(config: EventsConfig, send: (request: Request) => Promise<Response>): EventPoster {
  const sign = createStandardWebhookSigner(config.secret);
  return async (event, now) => {
    const body = JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data: event.data });
    const headers = { "content-type": "application/json", ...(await sign(body, now, event.id)) };
    // A redirect is not a delivery: followed, it would carry the signed event elsewhere.
    const response = await send(new Request(config.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) }));
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299) throw new Error(`EVENTS_URL answered ${response.status}`);
  };
}

/** Delivers each message's event; acknowledges what was delivered or recorded as failed, retries the rest. */
export async function deliverEvents(
  items: Array<{ message: Message<unknown>; event: AppEvent }>,
  post: EventPoster | null,
  db: Db,
  now: number,
  retryBaseSeconds: number,
): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await deliverOne(item);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, queue.length) }, worker));

  async function deliverOne({ message, event }: { message: Message<unknown>; event: AppEvent }): Promise<void> {
    if (post === null) {
      // EVENTS_URL was unset after the event was queued: nobody is listening any more.
      console.log(`events: ${event.type} ${event.id} dropped, EVENTS_URL is not set`);
      message.ack();
      return;
    }
    try {
      await post(event, now);
      message.ack();
      return;
    } catch (error) {
      const reason = errorText(error);
      if (message.attempts < EVENT_ATTEMPTS) {
        console.error(`events: ${event.type} ${event.id} not delivered (attempt ${message.attempts}): ${reason}`);
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, retryBaseSeconds) });
        return;
      }
      try {
        await recordFailure(db, event, message.attempts, reason, now);
        console.error(`events: ${event.type} ${event.id} given up after ${message.attempts} attempts: ${reason}`);
        message.ack();
      } catch (recording) {
        console.error(`events: the failure of ${event.id} could not be recorded`, errorText(recording));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, retryBaseSeconds) });
      }
    }
  }
}
