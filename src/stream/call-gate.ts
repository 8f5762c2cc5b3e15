// What every Stream call goes through, REST or binding: Stream's rate limit, the gateway's own API
// budget and the payer's share of it, and Stream's circuit breaker (budget.ts) are checked before
// each attempt; a 429 pauses every call of the client; an outage is retried once, then left to
// the breaker.
import { StreamCallError } from "./errors";

/** The window the account's budget and each payer's share are counted over (STREAM_API_BUDGET: calls per 5 minutes). */
export const WINDOW_MS = 300_000;

/** Who a call is charged to, besides the account: the user, and the network it came from. */
export interface Charge {
  accountLimit: number;
  user: { id: string; share: number } | null;
  network: { id: string; share: number } | null;
}

export type Scope = "account" | "user" | "network" | "breaker";

export type Taken =
  /** `watched`: Stream failed lately, so the caller reports how this call went (`report`). */
  | { ok: true; watched: boolean }
  /** `announce`: the first refusal of the account's budget in this window, for the gateway to log and tell the app. */
  | { ok: false; scope: Scope; seconds: number; announce: boolean };

/** Who a call is made for: the signed-in user, and the network (IPv4 address or IPv6 /64) asking. */
export interface Payer {
  user: string | null;
  network: string | null;
}

/** What the client asks before each call (budget.ts), and tells after it while Stream is watched. */
export interface ApiBudget {
  take(payer: Payer | null): Promise<Taken>;
  report(outcome: "answered" | "outage"): Promise<void>;
}

/** An attempt's answer when Stream could not be reached, timed out or failed (5xx). */
export const OUTAGE = Symbol("outage");

/** Stream locks an over-limit user (all its tokens) out for 5 minutes; assumed when a 429 names no wait. */
export const LOCKOUT_SECONDS = 300;
const MAX_ATTEMPTS = 2;
const BACKOFF_BASE_MS = 100;
export const unreadable = () => new StreamCallError({ kind: "unreadable" });

function refusal(taken: Extract<Taken, { ok: false }>): StreamCallError {
  switch (taken.scope) {
    case "account":
      return new StreamCallError({ kind: "budget-spent", seconds: taken.seconds });
    case "breaker":
      return new StreamCallError({ kind: "breaker-open", seconds: taken.seconds });
    default:
      return new StreamCallError({ kind: "share-spent", scope: taken.scope, seconds: taken.seconds });
  }
}

export class CallGate {
  readonly #budget: ApiBudget;
  readonly #payer: Payer | null;
  // Shared by every gate of this client (one per configuration and isolate): Stream's limit is per
  // account, so after a 429 every call would be refused too, and each one still counts against a
  // limit (and a 5-minute lockout) that the app shares.
  readonly #pause: { until: number };

  constructor(budget: ApiBudget, payer: Payer | null = null, pause = { until: 0 }) {
    this.#budget = budget;
    this.#payer = payer;
    this.#pause = pause;
  }

  /** The same gate, charging its calls to `payer`'s share as well as the account's budget. */
  charging(payer: Payer): CallGate {
    return new CallGate(this.#budget, payer, this.#pause);
  }

  /** Runs `attempt` until it answers something other than OUTAGE, at most MAX_ATTEMPTS times. */
  async call<T>(attempt: () => Promise<T | typeof OUTAGE>): Promise<T> {
    for (let n = 1; ; n++) {
      const wait = Math.ceil((this.#pause.until - Date.now()) / 1000);
      if (wait > 0) throw new StreamCallError({ kind: "rate-limited", seconds: wait });
      // Every attempt is a call Stream counts, retries included.
      const taken = await this.#budget.take(this.#payer);
      if (!taken.ok) throw refusal(taken);
      const answer = await attempt();
      if (answer !== OUTAGE) {
        if (taken.watched) await this.#budget.report("answered");
        return answer;
      }
      await this.#budget.report("outage");
      if (n >= MAX_ATTEMPTS) throw new StreamCallError({ kind: "no-answer" });
      // Full jitter, so that isolates retrying the same outage do not stampede together.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_BASE_MS * 2 ** (n - 1)));
    }
  }

  /** Stream said 429: every call of this client pauses for `seconds`; the error to throw. */
  rateLimited(seconds: number): StreamCallError {
    this.#pause.until = Math.max(this.#pause.until, Date.now() + seconds * 1000);
    return new StreamCallError({ kind: "rate-limited", seconds });
  }
}
