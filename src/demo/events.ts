// The demo's stand-in for an app's backend receiving the gateway's events (EVENTS_URL, which
// `npm run dev` points here): each POST is verified with the Standard Webhooks spec's own library,
// as an app would, and the last ones are kept in this isolate's memory for the page to show each
// signed-in user the events about them (their downloads, their links and what happened through
// them), as an app's own activity page would.
// Development only: the deployed Worker (src/index.ts) has no demo.
import { Webhook } from "standardwebhooks";

export interface ReceivedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Kept for all users together: enough for each of a few demo users to see their last ones. */
const KEPT = 200;
/** What one user is shown, newest first. */
const SHOWN = 50;
/** Links whose creators are remembered: beyond it the oldest are forgotten. */
const KEPT_CREATORS = 1000;

const received: ReceivedEvent[] = [];
const seen = new Set<string>();
/** Each link's creator, from its link.* events: a grant through a link names the link, not a user. */
const creators = new Map<string, string>();

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** Verifies and keeps one delivery; a repeat of a `webhook-id` already seen is acknowledged and dropped. */
export function receiveEvent(body: string, headers: Headers, secret: string): Response {
  let event: Omit<ReceivedEvent, "id">;
  try {
    event = new Webhook(secret).verify(body, Object.fromEntries(headers)) as Omit<ReceivedEvent, "id">;
  } catch {
    return new Response("signature does not verify\n", { status: 401 });
  }
  const id = headers.get("webhook-id") ?? "";
  if (!seen.has(id)) {
    seen.add(id);
    received.unshift({ id, ...event });
    for (const dropped of received.splice(KEPT)) seen.delete(dropped.id);
    rememberCreator(event.data);
  }
  return new Response(null, { status: 204 });
}

function rememberCreator(data: Record<string, unknown>): void {
  const link = text(data["link"]);
  const creator = text(data["creator"]);
  if (link === null || creator === null || creators.has(link)) return;
  creators.set(link, creator);
  for (const oldest of creators.keys()) {
    if (creators.size <= KEPT_CREATORS) break;
    creators.delete(oldest);
  }
}

/**
 * The events about `user`: their own downloads, their links', and downloads through their links.
 * Read when asked, not when received: events come in no guaranteed order, so a grant through a
 * link may arrive before the link's `link.created`. Events about nobody (a video blocked, the
 * Stream API budget spent) are the operator's, not shown.
 */
export function eventsFor(user: string): ReceivedEvent[] {
  return received
    .filter(({ data }) => {
      const link = text(data["link"]);
      return text(data["user"]) === user || text(data["creator"]) === user || (link !== null && creators.get(link) === user);
    })
    .slice(0, SHOWN);
}
