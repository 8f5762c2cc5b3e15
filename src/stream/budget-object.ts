// The gateway-wide Stream API budget's counter: one Durable Object per Stream account (see
// budget.ts for why the budget exists).
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
