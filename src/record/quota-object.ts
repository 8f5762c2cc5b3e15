// DAILY_DOWNLOAD_QUOTA's counter: one Durable Object per user (quota.ts). An object runs one call
// at a time and its storage is written before its answer leaves, so a take is atomic and
// strongly consistent without a D1 write.
import { DurableObject } from "cloudflare:workers";

interface Usage {
  /** The UTC day (YYYY-MM-DD) `used` counts; another day starts again at 0. */
  day: string;
  used: number;
}

export class UserQuota extends DurableObject {
  private used(day: string): number {
    const usage = this.ctx.storage.kv.get<Usage>("usage");
    return usage?.day === day ? usage.used : 0;
  }

  /** Takes one of `limit` downloads on `day`: the downloads left after it, or null when none was left. */
  take(day: string, limit: number): number | null {
    const used = this.used(day);
    if (used >= limit) return null;
    this.ctx.storage.kv.put("usage", { day, used: used + 1 } satisfies Usage);
    return limit - used - 1;
  }

  /** The downloads left on `day`, taking none. */
  left(day: string, limit: number): number {
    return Math.max(0, limit - this.used(day));
  }

  /** Gives back one download taken on `day` for a grant that was then not handed out. */
  giveBack(day: string): void {
    const used = this.used(day);
    if (used > 0) this.ctx.storage.kv.put("usage", { day, used: used - 1 } satisfies Usage);
  }
}
