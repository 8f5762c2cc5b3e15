// The gateway-wide Stream API budget. Stream allows 1,200 API calls per 5 minutes per token,
// counted with the app's own calls and the dashboard, and locks the token out for 5 minutes past
// that (every caller then fails). One user probing random UIDs, or a crowd on the status route,
// must not get there: every Stream API call first takes one from this budget, and when it is
// spent the gateway answers 503 with Retry-After instead of calling. Hot downloads make no API
// call, so they never ask.
import { DurableObject } from "cloudflare:workers";

const WINDOW_SLOTS = 30;
const SLOT_MS = 10_000;

/** One per Stream account: a sliding window of 10-second slots, in the object's own storage. */
export class StreamApiBudget extends DurableObject {
  /** Takes one call of `limit` per 5 minutes: 0 when taken, else the seconds until one is free. */
  take(limit: number): number {
    const now = Date.now();
    const slot = Math.floor(now / SLOT_MS);
    // 31 slots: any 300 s window lies within them, so no 5 minutes ever see more than `limit`.
    const slots = (this.ctx.storage.kv.get<[number, number][]>("slots") ?? []).filter(([s]) => s >= slot - WINDOW_SLOTS);
    const used = slots.reduce((sum, [, count]) => sum + count, 0);
    if (used >= limit) {
      this.ctx.storage.kv.put("slots", slots);
      // Free once enough of the oldest slots have left the window.
      let excess = used - limit + 1;
      let freedBy = slot;
      for (const [s, count] of slots) {
        excess -= count;
        freedBy = s;
        if (excess <= 0) break;
      }
      return Math.max(1, Math.ceil(((freedBy + WINDOW_SLOTS + 1) * SLOT_MS - now) / 1000));
    }
    const last = slots[slots.length - 1];
    if (last && last[0] === slot) last[1] += 1;
    else slots.push([slot, 1]);
    this.ctx.storage.kv.put("slots", slots);
    return 0;
  }
}

/** What the Stream client asks before each call: 0 to go ahead, else seconds to wait. */
export interface ApiBudget {
  take(): Promise<number>;
}

export function streamApiBudget(namespace: DurableObjectNamespace<StreamApiBudget>, accountId: string, limit: number): ApiBudget {
  return {
    async take() {
      try {
        // A stub per call: stubs are cheap, and one must not outlive the request that made it.
        return await namespace.get(namespace.idFromName(accountId)).take(limit);
      } catch (error) {
        // Open, not closed: a hiccup of the budget's object must not stop every first download.
        console.error("Stream API budget unavailable; calling Stream without it", error instanceof Error ? error.message : error);
        return 0;
      }
    },
  };
}
