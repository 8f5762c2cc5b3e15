// What every Stream call goes through, REST or binding: Stream's rate limit and the gateway's
// own API budget (budget.ts) are checked before each attempt, a 429 pauses every call of the
// client, and outages are retried at most twice with full jitter.
import { StreamCallError } from "./errors";

/** What the client asks before each call (budget.ts): 0 to go ahead, else seconds to wait. */
export interface ApiBudget {
  take(): Promise<number>;
}

/** An attempt's answer when Stream could not be reached, timed out or failed (5xx). */
export const OUTAGE = Symbol("outage");

/** Stream locks an over-limit token out for 5 minutes; assumed when a 429 names no wait. */
export const LOCKOUT_SECONDS = 300;
const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
export const unreadable = () => new StreamCallError({ kind: "unreadable" });

export class CallGate {
  readonly #budget: ApiBudget;
  // For every call of this client (one per configuration and isolate): Stream's limit is per
  // account, so after a 429 every call would be refused too, and each one still counts against a
  // limit (and a 5-minute lockout) that the app shares.
  #pausedUntil = 0;

  constructor(budget: ApiBudget) {
    this.#budget = budget;
  }

  /** Runs `attempt` until it answers something other than OUTAGE, at most MAX_ATTEMPTS times. */
  async call<T>(attempt: () => Promise<T | typeof OUTAGE>): Promise<T> {
    for (let n = 1; ; n++) {
      const wait = Math.ceil((this.#pausedUntil - Date.now()) / 1000);
      if (wait > 0) throw new StreamCallError({ kind: "rate-limited", seconds: wait });
      // Every attempt is a call Stream counts, retries included.
      const spent = await this.#budget.take();
      if (spent > 0) throw new StreamCallError({ kind: "budget-spent", seconds: spent });
      const answer = await attempt();
      if (answer !== OUTAGE) return answer;
      if (n >= MAX_ATTEMPTS) throw new StreamCallError({ kind: "no-answer" });
      // Full jitter, so that isolates retrying the same outage do not stampede together.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_BASE_MS * 2 ** (n - 1)));
    }
  }

  /** Stream said 429: every call of this client pauses for `seconds`; the error to throw. */
  rateLimited(seconds: number): StreamCallError {
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + seconds * 1000);
    return new StreamCallError({ kind: "rate-limited", seconds });
  }
}
