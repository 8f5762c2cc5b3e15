// The gateway-wide Stream API budget's counter and Stream's circuit breaker: one Durable Object
// per Stream account (see budget.ts for why both exist).
import { DurableObject } from "cloudflare:workers";
import { WINDOW_MS, type Charge, type Scope, type Taken } from "./call-gate";

const SLOT_MS = 10_000;
const WINDOW_SLOTS = WINDOW_MS / SLOT_MS;

/** Consecutive outages that open the breaker, and how long it stays open (doubling to the cap). */
const BREAKER_THRESHOLD = 3;
const BREAKER_FIRST_MS = 5_000;
const BREAKER_MAX_MS = 60_000;
/** A probe that never reports back (its request died) frees the breaker for another after this. */
const PROBE_TIMEOUT_MS = 15_000;

interface Breaker {
  failures: number;
  openUntil: number;
  backoffMs: number;
  probeSince: number;
}

const CLOSED: Breaker = { failures: 0, openUntil: 0, backoffMs: BREAKER_FIRST_MS, probeSince: 0 };

/**
 * One per Stream account. Calls are counted in 10-second slots per payer ("account", "u:<user>",
 * "n:<network>") in the object's SQLite storage; 31 slots cover any 300 s window, so no 5 minutes
 * ever see more than a limit.
 */
export class StreamApiBudget extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS spent (payer TEXT NOT NULL, slot INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (payer, slot)) WITHOUT ROWID");
  }

  get #breaker(): Breaker {
    return this.ctx.storage.kv.get<Breaker>("breaker") ?? CLOSED;
  }

  /** Takes one call for every payer of `charge`, or none and says who is out, and for how long. */
  take(charge: Charge): Taken {
    const now = Date.now();
    const slot = Math.floor(now / SLOT_MS);
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM spent WHERE slot < ?", slot - WINDOW_SLOTS);

    const breaker = this.#breaker;
    const open = breaker.failures >= BREAKER_THRESHOLD;
    if (open && (now < breaker.openUntil || now - breaker.probeSince < PROBE_TIMEOUT_MS)) {
      const until = Math.max(breaker.openUntil, breaker.probeSince + PROBE_TIMEOUT_MS);
      return { ok: false, scope: "breaker", seconds: Math.max(1, Math.ceil((until - now) / 1000)), announce: false };
    }

    const payers: [string, Scope, number][] = [["account", "account", charge.accountLimit]];
    if (charge.user) payers.push([`u:${charge.user.id}`, "user", charge.user.share]);
    if (charge.network) payers.push([`n:${charge.network.id}`, "network", charge.network.share]);
    for (const [payer, scope, cap] of payers) {
      const slots = sql.exec<{ slot: number; n: number }>("SELECT slot, n FROM spent WHERE payer = ? ORDER BY slot", payer).toArray();
      const used = slots.reduce((sum, s) => sum + s.n, 0);
      if (used >= cap) return { ok: false, scope, seconds: freedIn(slots, used, cap, now), announce: scope === "account" && this.#announce(now) };
    }
    for (const [payer] of payers) {
      sql.exec("INSERT INTO spent (payer, slot, n) VALUES (?, ?, 1) ON CONFLICT (payer, slot) DO UPDATE SET n = n + 1", payer, slot);
    }
    // Half open: this call is the one probe until it reports.
    if (open) this.#saveBreaker({ ...breaker, probeSince: now });
    return { ok: true, watched: breaker.failures > 0 };
  }

  /** How a call went: outages open the breaker with backoff; one answer closes it. */
  report(outcome: "answered" | "outage"): void {
    const now = Date.now();
    const breaker = this.#breaker;
    if (outcome === "answered") {
      if (breaker.failures > 0) this.#saveBreaker({ ...CLOSED });
      return;
    }
    const failures = breaker.failures + 1;
    if (failures < BREAKER_THRESHOLD) {
      this.#saveBreaker({ ...breaker, failures });
      return;
    }
    // Opened now, or a probe failed: wait longer each time.
    const backoffMs = failures === BREAKER_THRESHOLD ? BREAKER_FIRST_MS : Math.min(BREAKER_MAX_MS, breaker.backoffMs * 2);
    this.#saveBreaker({ failures, openUntil: now + backoffMs, backoffMs, probeSince: 0 });
  }

  #saveBreaker(breaker: Breaker): void {
    this.ctx.storage.kv.put("breaker", breaker);
  }

  /** True once per window: the account's budget ran out, and nobody was told yet. */
  #announce(now: number): boolean {
    const last = this.ctx.storage.kv.get<number>("announced") ?? 0;
    if (now - last < WINDOW_MS) return false;
    this.ctx.storage.kv.put("announced", now);
    return true;
  }
}

/** Seconds until enough of the oldest slots leave the window for one more call. */
function freedIn(slots: { slot: number; n: number }[], used: number, cap: number, now: number): number {
  let excess = used - cap + 1;
  let freedBy = Math.floor(now / SLOT_MS);
  for (const { slot, n } of slots) {
    excess -= n;
    freedBy = slot;
    if (excess <= 0) break;
  }
  return Math.max(1, Math.ceil(((freedBy + WINDOW_SLOTS + 1) * SLOT_MS - now) / 1000));
}
