// What the in-workerd bench files report to scripts/bench.mjs through the JSON reporter.
import "vitest";

interface Rate {
  /** the best round */
  tokensPerSecond: number;
  rounds: number[];
}

interface HotRequestTrips {
  requests: number;
  perRequest: { total: number; reads: number; auditWrites: number; otherWrites: number };
  statements: string[];
}

declare module "vitest" {
  interface TaskMeta {
    mint?: { cachedKey: Rate; importPerCall: Rate };
    d1?: { download: HotRequestTrips; share: HotRequestTrips };
    /** ms per request, see request-cost.test.ts */
    cost?: { requests: number } & Record<string, number>;
  }
}
