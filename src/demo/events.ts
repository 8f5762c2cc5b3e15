// The demo's stand-in for an app's backend receiving the gateway's events (EVENTS_URL, which
// `npm run dev` points here): each POST is verified with the Standard Webhooks spec's own library,
// as an app would, and the last ones are kept in this isolate's memory for the page to show.
// Development only: the deployed Worker (src/index.ts) has no demo.
import { Webhook } from "standardwebhooks";

export interface ReceivedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const KEPT = 50;
const received: ReceivedEvent[] = [];
const seen = new Set<string>();

/** Verifies and keeps one delivery; a repeat of a `webhook-id` already seen is acknowledged and dropped. */
export async function receiveEvent(request: Request, secret: string): Promise<Response> {
  const body = await request.text();
  let event: Omit<ReceivedEvent, "id">;
  try {
    event = new Webhook(secret).verify(body, Object.fromEntries(request.headers)) as Omit<ReceivedEvent, "id">;
  } catch {
    return new Response("signature does not verify\n", { status: 401 });
  }
  const id = request.headers.get("webhook-id") ?? "";
  if (!seen.has(id)) {
    seen.add(id);
    received.unshift({ id, ...event });
    for (const dropped of received.splice(KEPT)) seen.delete(dropped.id);
  }
  return new Response(null, { status: 204 });
}

export const receivedEvents = (): ReceivedEvent[] => [...received];
