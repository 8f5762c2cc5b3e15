// DAILY_DOWNLOAD_QUOTA's counter: one Durable Object per user (quota.ts). An object runs one call
// at a time and its storage is written before its answer leaves, so a take is atomic and
// strongly consistent without a D1 write.
import { DurableObject } from "cloudflare:workers";

/** Downloads taken per UTC day (YYYY-MM-DD), the newest two days only. */
type Usage = Record<string, number>;

/** How long a provisional take may still be given back (a share-link use is decided within it). */
const PROVISIONAL_MS = 10_000;

/** A take that refused: the day's downloads are used up, or some are held by grants still being decided. */
export type Refusal = { refused: "used-up" } | { refused: "held" };

export class UserQuota extends DurableObject {
  /**
   * When each provisional take (a share link's, made before its use is decided) happened, per
   * day; a give-back releases one. In memory only: an object that restarts forgets them, and its
   * refusals then say "used up", which is what they become within seconds anyway.
   */
  private readonly provisional = new Map<string, number[]>();

  private held(day: string, now: number): number[] {
    const held = (this.provisional.get(day) ?? []).filter((at) => now - at < PROVISIONAL_MS);
    this.provisional.set(day, held);
    return held;
  }

  /**
   * A day's count, or null for a day older than the two kept. Each day counts on its own: a
   * request that began before midnight and reaches the object after a take of the new day counts
   * against its own day, and never resets the new day's count.
   */
  private usage(day: string): { usage: Usage; used: number | null } {
    const usage = this.ctx.storage.kv.get<Usage>("usage") ?? {};
    const days = Object.keys(usage).sort();
    const tooOld = days.length === 2 && day < days[0]!;
    return { usage, used: tooOld ? null : (usage[day] ?? 0) };
  }

  private store(usage: Usage, day: string, used: number): void {
    const next: Usage = { ...usage, [day]: used };
    for (const old of Object.keys(next).sort().slice(0, -2)) delete next[old];
    this.ctx.storage.kv.put("usage", next);
  }

  /**
   * Takes one of `limit` downloads on `day`: the downloads left after it, or why none was taken.
   * `provisional`: the grant may still fail and give it back (a share link's use comes after).
   */
  take(day: string, limit: number, provisional = false): number | Refusal {
    const { usage, used } = this.usage(day);
    const now = Date.now();
    // A day older than the two kept cannot be counted, so it grants nothing.
    if (used === null) return { refused: "used-up" };
    if (used >= limit) return this.held(day, now).length > 0 ? { refused: "held" } : { refused: "used-up" };
    this.store(usage, day, used + 1);
    if (provisional) this.held(day, now).push(now);
    return limit - used - 1;
  }

  /** The downloads left on `day`, taking none. */
  left(day: string, limit: number): number {
    return Math.max(0, limit - (this.usage(day).used ?? limit));
  }

  /** Gives back one download taken on `day` for a grant that was then not handed out. */
  giveBack(day: string): void {
    const { usage, used } = this.usage(day);
    if (used !== null && used > 0) this.store(usage, day, used - 1);
    this.held(day, Date.now()).shift();
  }
}
