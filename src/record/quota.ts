// DAILY_DOWNLOAD_QUOTA: downloads per user per UTC day (each may be fetched whole, which Stream
// bills as the video's full length: docs/stream-behaviour.md §1). The count lives in one
// UserQuota Durable Object per user, not in D1: a download costs one call to that user's object
// (created near where the user first downloaded), and no user's downloads queue behind anyone
// else's.
import type { Refusal, UserQuota } from "./quota-object";
import { failingClosed, Problem, retryLater, errorText } from "../problems";

const DAY_MS = 86_400_000;

/** Whose quota a refusal names: a share link's use takes from its creator's. */
export type QuotaHolder = "user" | "link owner";

/** The grant a download is counted for: when (its UTC day), and from where. */
export interface Counted {
  at: number;
  country: string | null;
}

export interface DailyQuota {
  /**
   * Takes one download: the downloads left after it; `quota-exceeded` when none is left (with
   * `Retry-After` until midnight, or 1 s while some are held by share-link grants still being
   * decided). A link owner's take is provisional: the link's use is decided after it.
   */
  take(user: string, grant: Counted, holder: QuotaHolder): Promise<number>;
  /** The downloads left, taking none (HEAD); `quota-exceeded` when none is left, as a take would. */
  check(user: string, grant: Counted): Promise<number>;
  /** Gives back a download taken for a grant that was then not handed out. */
  giveBack(user: string, grant: Counted): Promise<void>;
}

/** The UTC day a quota counts in. */
const quotaDay = (now: number) => new Date(now).toISOString().slice(0, 10);

const whose = (holder: QuotaHolder) => (holder === "user" ? "Your" : "The link owner's");

function quotaExceeded(limit: number, now: number, holder: QuotaHolder): Problem {
  const midnight = Date.parse(`${quotaDay(now)}T00:00:00Z`) + DAY_MS;
  return retryLater("quota-exceeded", `${whose(holder)} daily quota of ${limit} downloads is used up.`, Math.ceil((midnight - now) / 1000));
}

export function dailyQuota(namespace: DurableObjectNamespace<UserQuota>, limit: number): DailyQuota {
  // A stub per call: one must not outlive the request that made it.
  const of = (user: string) => namespace.get(namespace.idFromName(user));
  // Closed, not open: a quota that cannot be counted is not a reason to hand out downloads.
  const ask = failingClosed("daily quota", "The daily download quota cannot be checked right now. Try again shortly.", 5);
  return {
    async take(user, { at }, holder) {
      // The RPC stub's type wraps object results; the object answers exactly `number | Refusal`.
      const left = await ask(async () => (await of(user).take(quotaDay(at), limit, holder === "link owner")) as number | Refusal);
      if (typeof left === "number") return left;
      if (left.refused === "used-up") throw quotaExceeded(limit, at, holder);
      throw retryLater("quota-exceeded", `${whose(holder)} last downloads of today are being handed out. Try again in a moment.`, 1);
    },
    async check(user, { at }) {
      const left = await ask(() => of(user).left(quotaDay(at), limit));
      if (left === 0) throw quotaExceeded(limit, at, "user");
      return left;
    },
    async giveBack(user, { at }) {
      try {
        await of(user).giveBack(quotaDay(at));
      } catch (error) {
        // The user is then one download short today: logged, since nothing else can be done.
        console.error(`daily quota: a download of ${user} could not be given back`, errorText(error));
      }
    },
  };
}
