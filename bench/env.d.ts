// What the in-workerd bench files report to scripts/bench.mjs through the JSON reporter.
import "vitest";

interface Rate {
  /** the best round */
  tokensPerSecond: number;
  rounds: number[];
}

interface HotRequestTrips {
  requests: number;
  perRequest: { total: number; reads: number; writes: number };
  queueSendsPerDownload: number;
  /** D1 write transactions per 1,000 downloads: made by the requests, by the audit consumer, both. */
  requestWritesPer1000: number;
  consumerWritesPer1000: number;
  writeTransactionsPer1000: number;
  ceilingPerSecond: number | null;
  statements: string[];
}

declare module "vitest" {
  interface TaskMeta {
    mint?: { cachedKey: Rate; importPerCall: Rate };
    /** usedUpStatementsPer1000: D1 statements for 1,000 POSTs to a used-up link, after the first. */
    d1?: { download: HotRequestTrips; share: HotRequestTrips; usedUpStatementsPer1000: number };
    /** One link's object: uses per second at 100 at a time (d1-round-trips.test.ts). */
    linkObject?: { uses: number; perSecond: number };
    /** ms per request, see request-cost.test.ts */
    cost?: { requests: number } & Record<string, number>;
  }
}
