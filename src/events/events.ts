// Events for the app (EVENTS_URL): what happened to its downloads and share links, POSTed signed
// the Standard Webhooks way (delivery.ts). They ride the gateway's queue (AUDIT_QUEUE), so a
// request only hands them over; `download.granted` is made by the queue's consumer from each
// audit event it has written, so a download costs no second send.
import type { AuditEvent } from "../record/audit";
import type { ShareLink, Suspension } from "../share-links/store";
import * as z from "../input/zod";
import { errorText } from "../problems";

export const APP_EVENT_TYPES = ["download.granted", "link.created", "link.exhausted", "link.revoked", "link.suspended", "link.reinstated", "video.blocked", "stream.budget_exhausted"] as const;
export type AppEventType = (typeof APP_EVENT_TYPES)[number];

/** One event: `id` is the Standard Webhooks message id, the same on every delivery attempt. */
export interface AppEvent {
  id: string;
  type: AppEventType;
  /** Unix ms. */
  at: number;
  data: Record<string, string | number | boolean | null>;
}

export const AppEventSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(80)),
  type: z.enum(APP_EVENT_TYPES),
  at: z.number(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

export function appEvent(type: AppEventType, at: number, data: AppEvent["data"]): AppEvent {
  return { id: `evt_${crypto.randomUUID().replaceAll("-", "")}`, type, at, data };
}

/** The app's event for a grant: its id follows from the audit event's, so a batch written twice sends the same event twice, which receivers drop. */
export function grantedEvent(audit: AuditEvent): AppEvent {
  return {
    id: `evt_${audit.id.replaceAll("-", "")}`,
    type: "download.granted",
    at: audit.at,
    data: { video: audit.video, type: audit.type, mode: audit.mode, user: audit.user, link: audit.link, country: audit.country },
  };
}

/** Why a link was revoked: by its creator, by the app's backend (admin API), with its video's block, or with the grant it was made under. */
export type RevokedBy = "creator" | "admin" | "video-blocked" | "grant-deleted";

/** A share link's event: which link, of which video, whose; and what else the type tells. */
export const linkEvent = (type: AppEventType, link: { id: string; video: string; creator: string }, at: number, more: AppEvent["data"] = {}): AppEvent =>
  appEvent(type, at, { link: link.id, video: link.video, creator: link.creator, ...more });

export const linkRevoked = (link: { id: string; video: string; creator: string }, at: number, by: RevokedBy): AppEvent => linkEvent("link.revoked", link, at, { by });

/** One suspension's event: decided once, by the link's object. */
export const linkSuspended = (link: ShareLink & { suspension: Suspension }): AppEvent =>
  linkEvent("link.suspended", link, link.suspension.at, {
    networks: link.suspension.networks,
    countries: link.suspension.countries,
    maxNetworks: link.maxNetworks,
    maxCountries: link.maxCountries,
  });

/** The queue's message for an event (app/queue.ts). */
export interface EventMessage {
  kind: "event";
  event: AppEvent;
}

export interface EventSink {
  /** Hands the events to the queue; throws when the queue refuses. Nothing without EVENTS_URL. */
  send(events: AppEvent[]): Promise<void>;
  /** As `send`, for a request whose own work is done: a refusal is logged, not the request's failure. */
  notify(...events: AppEvent[]): Promise<void>;
}

export function eventSink(queue: Queue<EventMessage>, enabled: boolean): EventSink {
  const send = async (events: AppEvent[]) => {
    if (!enabled || events.length === 0) return;
    // One call for up to 100 messages (Queues' sendBatch limit).
    for (let i = 0; i < events.length; i += 100) {
      await queue.sendBatch(events.slice(i, i + 100).map((event) => ({ body: { kind: "event", event }, contentType: "json" })));
    }
  };
  return {
    send,
    async notify(...events) {
      try {
        await send(events);
      } catch (error) {
        console.error(`events: ${events.map((e) => `${e.type} ${e.id}`).join(", ")} could not be queued`, errorText(error));
      }
    },
  };
}
