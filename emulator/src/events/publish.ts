// What Stream publishes to a subscribed queue and when (emulator/README.md › Event subscriptions):
// events are recorded as they happen, or owed by a timeline (processing and download generation
// end at known times), and the account's alarm publishes them, so no client has to be asking.
import type { Quirks } from "../quirks";
import { downloadUrl, renderBindingVideo } from "../render";
import type { Settings } from "../settings";
import { downloadProgress, type DownloadType, type EventSubscription, type VideoRecord } from "../store";
import { INFERRED_EVENT_TYPES, eventMessage, type EventMessage, type StreamEvent, type StreamEventType } from "./catalog";

/** One message sent to the queue, as `GET /__emulator/events` lists it. */
export interface PublishedEvent {
  /** When it was sent. */
  at: string;
  queue: string;
  message: EventMessage;
  /** Why the queue refused it, or null. */
  error: string | null;
}

export function videoEvent(
  type: Extract<StreamEventType, `video_state.${string}`>,
  video: VideoRecord,
  at: number,
  settings: Settings,
  quirks: Quirks,
): StreamEvent {
  return { type, at, payload: renderBindingVideo(video, settings, at, quirks) };
}

export function downloadEvent(
  type: Extract<StreamEventType, `download.${string}`>,
  video: VideoRecord,
  downloadType: DownloadType,
  at: number,
  settings: Settings,
): StreamEvent {
  const download = video.downloads[downloadType];
  if (!download) throw new Error(`video ${video.uid} has no ${downloadType} download`);
  const { status, percentComplete } = downloadProgress(download, at);
  return { type, at, payload: { videoId: video.uid, percentComplete, status, url: downloadUrl(video, downloadType, settings) } };
}

/** The messages an event makes: one for each enabled subscription that names its type. */
export function messagesFor(
  event: StreamEvent,
  subscriptions: readonly EventSubscription[],
  accountId: string,
  quirks: Quirks,
): EventMessage[] {
  if (!quirks.downloadCompletionEvents && INFERRED_EVENT_TYPES.includes(event.type)) return [];
  return subscriptions
    .filter((s) => s.enabled && s.events.includes(event.type))
    .map((s) => eventMessage(event, accountId, s.id));
}
