// Stream's event subscriptions (Queues "Events & schemas", Stream's "Event subscriptions" page):
// the event types a subscription may name, and the messages Stream publishes to its queue.

/**
 * The event types of source `stream`, without the `cf.stream.` prefix. Stream counts 14; these
 * are the ones its pages name, and two that the count implies (emulator/README.md › Event
 * subscriptions). The emulator has no live inputs or captions, so it never publishes theirs.
 */
export const STREAM_EVENT_TYPES = [
  "video_state.ready",
  "video_state.updated",
  "video_state.errored",
  "live_input.connected",
  "live_input.disconnected",
  "live_input.errored",
  "caption.ready",
  "download.created",
  "download.deleted",
  "download.ready",
  "download.errored",
] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];

/** Undocumented: they exist only under the quirk `downloadCompletionEvents`. */
export const INFERRED_EVENT_TYPES: readonly StreamEventType[] = ["download.ready", "download.errored"];

/** A download as download events carry it. */
export interface DownloadPayload {
  videoId: string;
  percentComplete: number;
  status: "inprogress" | "ready" | "error";
  url: string;
}

/** Something that happened, to be published to every subscription that names its type. */
export interface StreamEvent {
  type: StreamEventType;
  /** When it happened (ms since epoch): the message's `eventTimestamp`. */
  at: number;
  /** Video events carry the video as the Workers binding returns it (`StreamVideo`). */
  payload: StreamVideo | DownloadPayload;
}

/** The message on the queue, one per subscription. */
export interface EventMessage {
  type: `cf.stream.${StreamEventType}`;
  source: { type: "stream" };
  payload: StreamVideo | DownloadPayload;
  metadata: {
    accountId: string;
    eventSubscriptionId: string;
    eventSchemaVersion: 1;
    eventTimestamp: string;
  };
}

export function eventMessage(event: StreamEvent, accountId: string, subscriptionId: string): EventMessage {
  return {
    type: `cf.stream.${event.type}`,
    source: { type: "stream" },
    payload: event.payload,
    metadata: {
      accountId,
      eventSubscriptionId: subscriptionId,
      eventSchemaVersion: 1,
      eventTimestamp: new Date(event.at).toISOString(),
    },
  };
}

/** The video or download an event is about, for the counters. */
export function eventVideo(event: StreamEvent): string {
  return "videoId" in event.payload ? event.payload.videoId : event.payload.id;
}
