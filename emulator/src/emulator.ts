// The emulated account: state, persistence and the instruments, shared by the API, delivery
// host and control routes. One instance lives in the account's Durable Object.
import { Counters, Faults, Kept, Log, RateLimiter, type Memory } from "./instruments";
import { DEFAULT_QUIRKS, Quirks } from "./quirks";
import { renderVideo } from "./render";
import { seedState } from "./seed";
import type { Settings } from "./settings";
import type { AccountState, Jwks, VideoRecord } from "./store";
import { deliverWebhook, type WebhookDelivery } from "./webhooks/deliver";

/** Where state survives restarts and when the next webhook is due. */
export interface Persistence {
  save(state: AccountState): Promise<void>;
  wakeAt(time: number | null): Promise<void>;
}

const WEBHOOK_LOG_SIZE = 100;

export class Emulator {
  readonly counters: Counters;
  readonly faults: Faults;
  readonly rateLimit: RateLimiter;
  readonly webhookLog: Log<WebhookDelivery>;
  /** The undocumented choices in force (control API). */
  readonly #quirks: Kept<Quirks>;
  /** How often the identity-provider stand-in's JWKS was fetched. */
  readonly #jwksFetches: Kept<number>;

  constructor(
    readonly settings: Settings,
    public state: AccountState,
    private readonly persistence: Persistence,
    memory: Memory,
    private readonly sendWebhook: (request: Request) => Promise<Response>,
  ) {
    this.counters = new Counters(memory);
    this.faults = new Faults(memory);
    this.rateLimit = new RateLimiter(memory);
    this.webhookLog = new Log(memory, "webhook-deliveries", WEBHOOK_LOG_SIZE);
    this.#quirks = new Kept(memory, "quirks", () => ({ ...DEFAULT_QUIRKS }));
    // Quirks saved before a quirk was added lack it (the default fills in); quirks saved in a
    // shape that no longer fits are dropped for the defaults.
    const saved = Quirks.partial().safeParse(this.#quirks.get());
    this.#quirks.set({ ...DEFAULT_QUIRKS, ...(saved.success ? saved.data : {}) });
    this.#jwksFetches = new Kept(memory, "jwks-fetches", () => 0);
  }

  get quirks(): Quirks {
    return this.#quirks.get();
  }

  /** Changes the quirks named in `changes` and keeps the others. */
  changeQuirks(changes: Partial<Quirks>): Quirks {
    this.#quirks.set({ ...this.quirks, ...changes });
    return this.quirks;
  }

  get jwksFetches(): number {
    return this.#jwksFetches.get();
  }

  countJwksFetch(): void {
    this.#jwksFetches.set(this.jwksFetches + 1);
  }

  now(): number {
    return Date.now();
  }

  /** The identity-provider stand-in of the control API (not Stream), part of the saved state. */
  get jwks(): Jwks {
    return this.state.jwks ?? { keys: [] };
  }

  async setJwks(jwks: Jwks): Promise<void> {
    this.state.jwks = jwks;
    await this.save();
  }

  video(uid: string): VideoRecord | undefined {
    return Object.hasOwn(this.state.videos, uid) ? this.state.videos[uid] : undefined;
  }

  /** Persists the state and sets the alarm for the next webhook that processing will owe. */
  async save(): Promise<void> {
    await this.persistence.save(this.state);
    const due = Object.values(this.state.videos)
      .map((v) => v.notifyAt)
      .filter((at): at is number => at !== null);
    await this.persistence.wakeAt(due.length ? Math.min(...due) : null);
  }

  /** Calls the webhook for every video whose processing has finished since the last call. */
  async deliverDueWebhooks(): Promise<void> {
    const now = this.now();
    const due = Object.values(this.state.videos).filter((v) => v.notifyAt !== null && v.notifyAt <= now);
    for (const video of due) video.notifyAt = null;
    await this.save();
    const subscription = this.state.webhook;
    if (!subscription) return;
    for (const video of due) {
      const delivery = await deliverWebhook(subscription, renderVideo(video, this.settings, now, this.quirks), this.sendWebhook, now);
      this.webhookLog.push(delivery);
    }
  }

  async reset(): Promise<void> {
    this.#quirks.clear();
    this.state = seedState(this.settings, this.now());
    this.counters.clear();
    this.faults.clear();
    this.rateLimit.reset();
    this.webhookLog.clear();
    // The seeded state has an empty JWKS, so the saved one is cleared too.
    this.#jwksFetches.clear();
    await this.save();
  }
}
