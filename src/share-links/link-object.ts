// One Durable Object per share link (named by its public id): the link's live state and the only
// place it changes. It runs one call at a time and writes its storage before its answer leaves,
// so a use, the leak limits and a grant's byte budget are decided atomically with no D1 write.
// It holds:
//   - the link (its settings, uses, revocation, suspension), adopted from D1 on first use;
//   - the leak window: each network and country seen, with its latest use;
//   - the grants it handed out: their networks and byte budgets, checked by every fetch of /d/;
//   - the outbox: each use's audit event, written with the use; the Worker sends it to the queue
//     and says so, and an alarm sends what a crash left, so no use is ever without its audit row.
// D1 keeps the index (the owner's list, admin queries, the audit trail), written by the queue's
// consumer and by the owner's and admin's actions (store.ts).
import { DurableObject } from "cloudflare:workers";
import type { DeliveryMode } from "../deliver/modes";
import type { AuditEvent } from "../record/audit";
import type { AuditSink } from "../record/audit-queue";
import type { ShareLink, Suspension } from "./store";
import { linkRefusal, type LinkRefusal } from "./status";

/** A grant handed out through the link, as its /d/ URL is checked. */
interface Grant {
  /** The coarse network that redeemed it ("unknown" when not known). */
  network: string;
  /** The one other network it may be fetched from (a phone leaving Wi-Fi), taken by the first that asks. */
  switched: string | null;
  /** Bytes its fetches may still take: 3 × the file's size, from the first fetch. */
  budget: number | null;
}

export type Redeemed =
  | { kind: "unknown" }
  | { kind: "refused"; link: ShareLink; suspended: boolean }
  | { kind: "granted"; link: ShareLink }
  /** The network's grant, still lasting, handed back: no use taken, nothing recorded. */
  | { kind: "resumed"; link: ShareLink; handout: Handout };

export type Opened =
  | { kind: "open"; reserved: number }
  | { kind: "refused"; why: LinkRefusal | "grant-unknown" | "other-network" | "budget-spent" | "length-unknown"; suspended?: undefined }
  /** The fetch would have taken the link past a leak limit, and suspended it. */
  | { kind: "refused"; why: "link-suspended"; suspended: ShareLink };

export interface RedeemInput {
  now: number;
  network: string | null;
  country: string | null;
  /** SHARE_LINK_LEAK_WINDOW in ms. */
  windowMs: number;
  grant: GrantName;
  /** Where the grant ends, handed back to the same network while it lasts (`resumable`). */
  handout: Handout;
  /** A grant of this network's that ends before this is not handed back: a new one is taken. */
  grantsUntil: number;
  event: AuditEvent;
}

/** A grant as the network that redeemed it was handed it. */
export interface Handout {
  grant: GrantName;
  /** The gateway's /d/<ticket>, or Stream's tokenized URL. */
  url: string;
  /** The delivery mode that minted it, and answers it again. */
  mode: DeliveryMode;
}

/** A handout as storage may hold it: one kept before handouts named their mode says where it went instead. */
type KeptHandout = Omit<Handout, "mode"> & ({ mode: DeliveryMode; via?: undefined } | { mode?: undefined; via: "gateway" | "stream" });

/** A grant as its ticket names it: its id and its expiry (unix seconds). */
export interface GrantName {
  id: string;
  expiresAt: number;
}

/** Grants are kept in the order they expire, so that the expired are dropped cheaply. */
const grantKey = (g: GrantName) => `grant:${String(g.expiresAt).padStart(12, "0")}:${g.id}`;
/** Each network's latest grant, handed back to it while it lasts: one per network, overwritten. */
const handoutKey = (network: string) => `handout:${network}`;

/** How many expired grants a use drops: more than a use adds, so they never pile up. */
const PRUNE_PER_USE = 4;

/** How long an expired link's object keeps its state: past every grant it handed out (TOKEN_TTL_SECONDS is at most a day). */
const KEEP_AFTER_EXPIRY_MS = 2 * 86_400_000;

/** How long an object that never took its link over keeps a revocation pushed to it. */
const REVOCATION_KEPT_MS = 400 * 86_400_000;

/**
 * Wrong-password guesses a link takes from everyone together per window, against guessing spread
 * over many networks (each network is also held to LINK_PASSWORD_LIMITER). A network that has
 * entered the right password is never stopped by it.
 */
export const PASSWORD_GUESSES = 50;
const PASSWORD_WINDOW_MS = 15 * 60_000;
/**
 * What one network's guesses count towards the ceiling per window: one network alone (held to 10
 * a minute anyway) cannot spend it; it takes guessing from five networks or more.
 */
export const PASSWORD_GUESSES_PER_NETWORK = 10;

/** The window's guesses, in all and by network. */
interface Guesses {
  since: number;
  count: number;
  byNetwork: Record<string, number>;
}

/** A guess at a link's password: taken, or refused until the window turns. */
export type Guess = { kind: "go"; known: boolean } | { kind: "wait"; retryAfterSeconds: number };

/** A grant may take this many times its file: a resume and a retry or two, never an audience. */
const GRANT_BUDGET_FILES = 3;

/** The latest use per network and per country within the leak window. */
interface Seen {
  networks: Record<string, number>;
  countries: Record<string, number>;
}

const UNKNOWN = "unknown";

/** How long the Worker has to send a use's event before the object sends it itself. */
const OUTBOX_GRACE_MS = 60_000;

/** When an unsent event is tried again: soon, then backing off to an hour. */
const OUTBOX_RETRY_MS = (attempt: number) => Math.min(3_600_000, 30_000 * 2 ** attempt);

/**
 * How the objects reach the gateway they serve (its audit queue, configured by the library's
 * options), for the events a crash left in an outbox: set by `streamDownloads` when the Worker's
 * module is loaded, before any call (the last call's, if a Worker makes several).
 */
let auditOf: ((env: object) => AuditSink) | null = null;
export function serveLinkObjects(audit: (env: object) => AuditSink): void {
  auditOf = audit;
}

export class ShareLinkObject extends DurableObject {
  private get link(): ShareLink | undefined {
    return this.ctx.storage.kv.get<ShareLink>("link");
  }

  private save(link: ShareLink): ShareLink {
    this.ctx.storage.kv.put("link", link);
    return link;
  }

  /** The link as it stands, or null before its first use. */
  read(): ShareLink | null {
    return this.link ?? null;
  }

  /**
   * Takes over the link from its D1 row, with the uses the audit trail holds in its leak window.
   * What was pushed before (a revocation) is kept: it may have come after the row was read.
   */
  async adopt(row: ShareLink, window: Array<{ at: number; network: string | null; country: string | null }>): Promise<ShareLink> {
    const held = this.link;
    if (held !== undefined) return held;
    const revokedAt = this.ctx.storage.kv.get<number>("revoked-before-adoption") ?? null;
    const seen: Seen = { networks: {}, countries: {} };
    for (const use of window) {
      const network = use.network ?? UNKNOWN;
      const country = use.country ?? UNKNOWN;
      seen.networks[network] = Math.max(seen.networks[network] ?? 0, use.at);
      seen.countries[country] = Math.max(seen.countries[country] ?? 0, use.at);
    }
    this.ctx.storage.kv.put("seen", seen);
    const link = this.save({ ...row, revokedAt: row.revokedAt ?? revokedAt });
    // The object clears itself once the link and its grants are long over.
    this.outboxAlarm = null;
    await this.ctx.storage.setAlarm(row.expiresAt + KEEP_AFTER_EXPIRY_MS);
    return link;
  }

  /**
   * One use, atomically: the link must be unrevoked, unsuspended, unexpired and not used up, and
   * this request's network and country must fit its leak limits, or it is refused; the request
   * that would go past a limit suspends the link. A use taken records its grant and its audit event.
   */
  async redeem(input: RedeemInput): Promise<Redeemed> {
    const link = this.link;
    if (link === undefined) return { kind: "unknown" };
    const handout = this.resumable(link, input.network, input.grantsUntil);
    if (handout !== null) return { kind: "resumed", link, handout };
    const refusal = linkRefusal(link, input.now);
    if (refusal !== null) return { kind: "refused", link, suspended: false };
    const over = this.count(link, input.now, input.windowMs, input.network ?? UNKNOWN, input.country ?? UNKNOWN);
    if (over !== null) return { kind: "refused", link: this.suspend(link, input.now, over), suspended: true };
    const used = this.save({ ...link, uses: link.uses + 1 });
    // The budget is set by the first fetch, from the length Stream states.
    this.ctx.storage.kv.put(grantKey(input.grant), { network: input.network ?? UNKNOWN, switched: null, budget: null } satisfies Grant);
    this.ctx.storage.kv.put(handoutKey(input.network ?? UNKNOWN), input.handout);
    const expired = this.ctx.storage.kv.list({ prefix: "grant:", end: grantKey({ id: "", expiresAt: Math.floor(input.now / 1000) }), limit: PRUNE_PER_USE });
    for (const [key] of expired) this.ctx.storage.kv.delete(key);
    this.ctx.storage.kv.put(`outbox:${input.event.id}`, input.event);
    // The Worker sends the event and then says so (`sent`); if it never does, the alarm sends it.
    // One alarm covers every use until it rings.
    const due = Date.now() + OUTBOX_GRACE_MS;
    if (this.outboxAlarm === null || this.outboxAlarm < Date.now() || this.outboxAlarm > due + OUTBOX_GRACE_MS) {
      this.outboxAlarm = due;
      await this.ctx.storage.setAlarm(due);
    }
    return { kind: "granted", link: used };
  }

  /**
   * The link as it stands and the grant `network` holds and would be handed back (`resumable`),
   * asked without taking anything; null while the object holds no link.
   */
  handedBack(network: string | null, until: number): { link: ShareLink; handout: Handout | null } | null {
    return this.link === undefined ? null : { link: this.link, handout: this.resumable(this.link, network, until) };
  }

  /**
   * The grant `network` was handed, while it lasts past `until` and the link is live: a POST that
   * hands back a grant already given takes no use (a resume, a second click), whatever the link's
   * uses left; only a new grant counts. A network that cannot be told apart ("unknown") gets none.
   */
  private resumable(link: ShareLink, network: string | null, until: number): Handout | null {
    if (network === null || this.liveness(link) !== null) return null;
    const kept = this.ctx.storage.kv.get<KeptHandout>(handoutKey(network));
    if (kept === undefined || kept.grant.expiresAt * 1000 <= until) return null;
    if (this.ctx.storage.kv.get<Grant>(grantKey(kept.grant)) === undefined) return null;
    // Kept before handouts named their mode: "gateway" was the ticket's (stream mode), "stream" Stream's URL.
    return { grant: kept.grant, url: kept.url, mode: kept.mode ?? (kept.via === "gateway" ? "stream" : "redirect") };
  }

  /**
   * One attempt at the link's password from `network` (IPv4 address, IPv6 /64), before it is
   * checked: a network that entered the right password before always goes; any other counts
   * against the link's PASSWORD_GUESSES per window.
   */
  guess(network: string, now: number): Guess {
    if (this.ctx.storage.kv.get<number>(`password-ok:${network}`) !== undefined) return { kind: "go", known: true };
    const stored = this.ctx.storage.kv.get<Guesses>("password-guesses");
    const window: Guesses = stored === undefined || now - stored.since >= PASSWORD_WINDOW_MS ? { since: now, count: 0, byNetwork: {} } : stored;
    if (window.count >= PASSWORD_GUESSES) return { kind: "wait", retryAfterSeconds: Math.max(1, Math.ceil((window.since + PASSWORD_WINDOW_MS - now) / 1000)) };
    const ofNetwork = window.byNetwork[network] ?? 0;
    if (ofNetwork < PASSWORD_GUESSES_PER_NETWORK) {
      this.ctx.storage.kv.put("password-guesses", { since: window.since, count: window.count + 1, byNetwork: { ...window.byNetwork, [network]: ofNetwork + 1 } });
    }
    return { kind: "go", known: false };
  }

  /** `network` entered the right password: its later attempts are not counted. */
  passwordRight(network: string, now: number): void {
    this.ctx.storage.kv.put(`password-ok:${network}`, now);
  }

  /** The Worker has handed a use's audit event to the queue: it leaves the outbox. */
  sent(eventId: string): void {
    this.ctx.storage.kv.delete(`outbox:${eventId}`);
  }

  /**
   * A fetch of a grant's /d/ URL: admitted while the link is live, from the grant's network or its
   * one switch (which counts in the leak window), and within its byte budget. Asked twice: before
   * Stream is asked (`length` null: a check that changes nothing, so a refused fetch costs Stream
   * nothing), and once Stream's headers tell the response's length, which it reserves; `close`
   * refunds what was not sent. A response with no body (HEAD, 416) reserves nothing.
   */
  open(input: {
    grant: GrantName;
    now: number;
    network: string | null;
    country: string | null;
    windowMs: number;
    length: { bytes: number | null; sizeBytes: number | null } | null;
  }): Opened {
    const link = this.link;
    if (link === undefined) return { kind: "refused", why: "grant-unknown" };
    const key = grantKey(input.grant);
    const grant = this.ctx.storage.kv.get<Grant>(key);
    if (grant === undefined || input.grant.expiresAt * 1000 <= input.now) return { kind: "refused", why: "grant-unknown" };
    const live = this.liveness(link);
    if (live !== null) return { kind: "refused", why: live };
    const network = input.network ?? UNKNOWN;
    const switching = network !== grant.network && network !== grant.switched;
    if (switching && grant.switched !== null) return { kind: "refused", why: "other-network" };
    if (input.length === null) return grant.budget === 0 ? { kind: "refused", why: "budget-spent" } : { kind: "open", reserved: 0 };
    if (switching) {
      const over = this.count(link, input.now, input.windowMs, network, input.country ?? UNKNOWN);
      if (over !== null) return { kind: "refused", why: "link-suspended", suspended: this.suspend(link, input.now, over) };
      grant.switched = network;
    }
    const { bytes, sizeBytes } = input.length;
    if (grant.budget === null && sizeBytes !== null) grant.budget = GRANT_BUDGET_FILES * sizeBytes;
    if (bytes === 0) {
      this.ctx.storage.kv.put(key, grant);
      return { kind: "open", reserved: 0 };
    }
    if (grant.budget === null) {
      this.ctx.storage.kv.put(key, grant);
      return { kind: "refused", why: "length-unknown" };
    }
    // A length Stream did not state reserves all that is left; the response stops there.
    const reserved = bytes ?? grant.budget;
    if (reserved > grant.budget || reserved === 0) {
      this.ctx.storage.kv.put(key, grant);
      return { kind: "refused", why: "budget-spent" };
    }
    this.ctx.storage.kv.put(key, { ...grant, budget: grant.budget - reserved });
    return { kind: "open", reserved };
  }

  /** Whether a running response may go on past a checkpoint: its link is still live. */
  stillLive(): boolean {
    const link = this.link;
    return link !== undefined && this.liveness(link) === null;
  }

  /** Gives back what a fetch reserved and did not send. */
  close(name: GrantName, unsent: number): void {
    const grant = this.ctx.storage.kv.get<Grant>(grantKey(name));
    if (grant === undefined || grant.budget === null || unsent <= 0) return;
    this.ctx.storage.kv.put(grantKey(name), { ...grant, budget: grant.budget + unsent });
  }

  /** Revoked for good; a link not yet adopted keeps the revocation for when it is. The link, or null when it already was. */
  revoke(now: number): ShareLink | null {
    const link = this.link;
    if (link === undefined) {
      this.ctx.storage.kv.put("revoked-before-adoption", now);
      // Kept past any link's life (SHARE_LINK_MAX_TTL is at most a year), then cleared.
      void this.ctx.storage.setAlarm(now + REVOCATION_KEPT_MS);
      return null;
    }
    if (link.revokedAt !== null) return null;
    return this.save({ ...link, revokedAt: now });
  }

  /** Lifts a suspension; the window starts again. The link, or null when it was not suspended. */
  reinstate(now: number): ShareLink | null {
    const link = this.link;
    if (link === undefined || link.suspension === null || link.revokedAt !== null) return null;
    this.ctx.storage.kv.put("seen", { networks: {}, countries: {} } satisfies Seen);
    return this.save({ ...link, suspension: null, reinstatedAt: now });
  }

  override async alarm(): Promise<void> {
    this.outboxAlarm = null;
    if (this.sending) return;
    this.sending = true;
    try {
      await this.flush();
    } finally {
      this.sending = false;
    }
    const link = this.link;
    // Long expired, every grant too, and nothing left to send (or a revocation kept for a link
    // never used): the index in D1 is all that remains.
    if (link === undefined || Date.now() >= link.expiresAt + KEEP_AFTER_EXPIRY_MS) await this.ctx.storage.deleteAll();
  }

  /**
   * What stops a grant's fetches: a revoked link (a video's block revokes its links) or a
   * suspended one. Expiry and uses do not: the grant was given.
   */
  private liveness(link: ShareLink): LinkRefusal | null {
    if (link.revokedAt !== null) return "link-revoked";
    if (link.suspension !== null) return "link-suspended";
    return null;
  }

  /**
   * Adds a use from `network` and `country` to the leak window, or, when that would take the link
   * past one of its limits, leaves the window and answers what the window would have held.
   */
  private count(link: ShareLink, now: number, windowMs: number, network: string, country: string): Omit<Suspension, "at"> | null {
    if (link.maxNetworks === null && link.maxCountries === null) return null;
    const start = Math.max(now - windowMs, link.reinstatedAt ?? 0);
    const stored = this.ctx.storage.kv.get<Seen>("seen") ?? { networks: {}, countries: {} };
    const recent = (of: Record<string, number>, key: string) => {
      const kept = Object.fromEntries(Object.entries(of).filter(([, at]) => at >= start));
      return { ...kept, [key]: now };
    };
    const seen: Seen = { networks: recent(stored.networks, network), countries: recent(stored.countries, country) };
    const networks = Object.keys(seen.networks).length;
    const countries = Object.keys(seen.countries).length;
    if ((link.maxNetworks !== null && networks > link.maxNetworks) || (link.maxCountries !== null && countries > link.maxCountries)) {
      return { networks, countries };
    }
    this.ctx.storage.kv.put("seen", seen);
    return null;
  }

  private suspend(link: ShareLink, now: number, over: Omit<Suspension, "at">): ShareLink {
    return this.save({ ...link, suspension: { at: now, ...over } });
  }

  private audit(): AuditSink {
    if (auditOf === null) throw new Error("the gateway was not built in this Worker (streamDownloads was not called)");
    return auditOf(this.env as object);
  }

  private sending = false;

  /** When the alarm set for the outbox rings, as this instance set it (null: not set, or since rung). */
  private outboxAlarm: number | null = null;

  private async flush(): Promise<void> {
    // Events added while a batch is sent are taken by the next turn.
    for (;;) {
      const waiting = [...this.ctx.storage.kv.list<AuditEvent>({ prefix: "outbox:", limit: 100 })];
      if (waiting.length === 0) break;
      const attempt = this.ctx.storage.kv.get<number>("outbox-attempt") ?? 0;
      // Set first: a crash in the sending still leaves the events a next try.
      this.outboxAlarm = null;
      await this.ctx.storage.setAlarm(Date.now() + OUTBOX_RETRY_MS(attempt));
      const audit = this.audit();
      for (const [key, event] of waiting) {
        try {
          await audit.record(event, (promise) => this.ctx.waitUntil(promise));
        } catch (error) {
          this.ctx.storage.kv.put("outbox-attempt", attempt + 1);
          throw error;
        }
        this.ctx.storage.kv.delete(key);
      }
      this.ctx.storage.kv.delete("outbox-attempt");
    }
    // Nothing left to send: the next alarm clears the object once its link is long expired.
    const link = this.link;
    this.outboxAlarm = null;
    if (link !== undefined) await this.ctx.storage.setAlarm(link.expiresAt + KEEP_AFTER_EXPIRY_MS);
  }
}
