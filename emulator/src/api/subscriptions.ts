// Queues' event subscriptions, as far as Stream's events need them: `…/event_subscriptions/subscriptions`
// (create, list, get, edit, delete) and `…/queues`, which lists the account's one queue. Field
// names follow the API reference (`queue_id`, `created_at`); Stream's own guide writes
// `queueId`, which a request may use too (emulator/README.md › Event subscriptions).
import { Hono, type Context } from "hono";
import { z } from "zod";
import { badRequest, fail, noRoute, ok, page } from "../envelope";
import type { Emulator } from "../emulator";
import { INFERRED_EVENT_TYPES, STREAM_EVENT_TYPES, type StreamEventType } from "../events/catalog";
import type { EventSubscription } from "../store";
import { randomHex } from "../videos";
import { apiPath, guarded, readBody } from "./guard";

const iso = (ms: number) => new Date(ms).toISOString();

const render = (s: EventSubscription) => ({
  id: s.id,
  name: s.name,
  enabled: s.enabled,
  source: { type: "stream" },
  destination: { type: "queues.queue", queue_id: s.queueId },
  events: s.events,
  created_at: iso(s.created),
  modified_at: iso(s.modified),
});

const Destination = z.object({
  type: z.literal("queues.queue"),
  queue_id: z.string().optional(),
  queueId: z.string().optional(),
});
const Events = z.array(z.enum(STREAM_EVENT_TYPES)).min(1);

const NewSubscription = z.object({
  name: z.string().min(1).max(256),
  enabled: z.boolean().default(true),
  source: z.object({ type: z.string() }),
  destination: Destination,
  events: Events,
});

const SubscriptionEdit = z.object({
  name: z.string().min(1).max(256).optional(),
  enabled: z.boolean().optional(),
  source: z.unknown().optional(),
  destination: Destination.optional(),
  events: Events.optional(),
});

const ORDERS = {
  created_at: (s: EventSubscription) => s.created,
  name: (s: EventSubscription) => s.name,
  enabled: (s: EventSubscription) => Number(s.enabled),
  // Every subscription here has source `stream`.
  source: () => 0,
} as const;

export function subscriptionRoutes(emulator: Emulator): Hono {
  const api = new Hono();
  const subscriptions = () => (emulator.state.eventSubscriptions ??= {});
  const find = (c: Context) => {
    const id = c.req.param("id") ?? "";
    return Object.hasOwn(subscriptions(), id) ? subscriptions()[id] : undefined;
  };

  /** The queue a destination names, or why it cannot be used. */
  function queueOf(destination: z.infer<typeof Destination>): string | Response {
    const queueId = destination.queue_id ?? destination.queueId;
    if (queueId === undefined) return badRequest("destination.queue_id: Required");
    // Queues' API code for a queue that does not exist.
    if (queueId !== emulator.settings.eventsQueue.id) return fail(404, [{ code: 11000, message: "Queue does not exist" }]);
    return queueId;
  }

  /** Under `downloadCompletionEvents: false` the two inferred events do not exist. */
  function unknownEvent(events: readonly StreamEventType[]): Response | null {
    const unknown = emulator.quirks.downloadCompletionEvents ? undefined : events.find((e) => INFERRED_EVENT_TYPES.includes(e));
    return unknown ? badRequest(`events: ${unknown} is not an event of source stream`) : null;
  }

  api.post(
    "/",
    guarded(emulator, "queues.subscriptions.create", async (c) => {
      const body = await readBody(c, NewSubscription);
      if (!body.ok) return body.response;
      const { name, enabled, source, destination, events } = body.value;
      // The emulator plays Stream only: no other product's events could ever be published.
      if (source.type !== "stream") return badRequest("source.type: only stream is emulated");
      const queueId = queueOf(destination);
      if (queueId instanceof Response) return queueId;
      const refused = unknownEvent(events);
      if (refused) return refused;
      const now = emulator.now();
      const subscription: EventSubscription = { id: randomHex(16), name, enabled, events: [...new Set(events)], queueId, created: now, modified: now };
      subscriptions()[subscription.id] = subscription;
      await emulator.save();
      return ok(render(subscription));
    }),
  );

  api.get(
    "/",
    guarded(emulator, "queues.subscriptions.list", (c) => {
      const { order = "created_at", direction = "asc", ...query } = c.req.query();
      if (!Object.hasOwn(ORDERS, order)) return badRequest(`order: must be one of ${Object.keys(ORDERS).join(", ")}`);
      if (direction !== "asc" && direction !== "desc") return badRequest("direction: must be asc or desc");
      const key = ORDERS[order as keyof typeof ORDERS];
      const sorted = Object.values(subscriptions()).sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        return (x < y ? -1 : x > y ? 1 : 0) * (direction === "asc" ? 1 : -1);
      });
      return page(sorted.map(render), query);
    }),
  );

  api.get(
    "/:id{[0-9a-f]{32}}",
    guarded(emulator, "queues.subscriptions.get", (c) => {
      const subscription = find(c);
      return subscription ? ok(render(subscription)) : noRoute(apiPath(c));
    }),
  );

  api.patch(
    "/:id{[0-9a-f]{32}}",
    guarded(emulator, "queues.subscriptions.edit", async (c) => {
      const subscription = find(c);
      if (!subscription) return noRoute(apiPath(c));
      const body = await readBody(c, SubscriptionEdit);
      if (!body.ok) return body.response;
      const { name, enabled, source, destination, events } = body.value;
      // The API reference's edit has no source: a subscription keeps the one it was made with.
      if (source !== undefined && JSON.stringify(source) !== JSON.stringify({ type: "stream" })) {
        return badRequest("source: cannot be changed");
      }
      const queueId = destination === undefined ? subscription.queueId : queueOf(destination);
      if (queueId instanceof Response) return queueId;
      const refused = unknownEvent(events ?? []);
      if (refused) return refused;
      Object.assign(subscription, {
        name: name ?? subscription.name,
        enabled: enabled ?? subscription.enabled,
        events: events ? [...new Set(events)] : subscription.events,
        queueId,
        modified: emulator.now(),
      });
      await emulator.save();
      return ok(render(subscription));
    }),
  );

  api.delete(
    "/:id{[0-9a-f]{32}}",
    guarded(emulator, "queues.subscriptions.delete", async (c) => {
      const subscription = find(c);
      if (!subscription) return noRoute(apiPath(c));
      delete subscriptions()[subscription.id];
      await emulator.save();
      return ok(render(subscription));
    }),
  );

  return api;
}

/** `GET …/queues`: the one queue the emulator can publish to. */
export function queueRoutes(emulator: Emulator): Hono {
  const api = new Hono();
  api.get(
    "/",
    guarded(emulator, "queues.list", () => {
      const { id, name, created } = emulator.settings.eventsQueue;
      return ok([{ queue_id: id, queue_name: name, created_on: created, modified_on: created }]);
    }),
  );
  return api;
}
