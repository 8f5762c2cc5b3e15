// The emulated account: state, persistence and the instruments, shared by the API, delivery
// host and control routes. One instance lives in the account's Durable Object.
import { Counters, Faults, RateLimiter } from "./instruments";
import { DEFAULT_QUIRKS, type Quirks } from "./quirks";
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
  readonly counters = new Counters();
  readonly faults = new Faults();
  readonly rateLimit = new RateLimiter();
  readonly webhookLog: WebhookDelivery[] = [];
  /** The undocumented choices in force (control API); not persisted, like faults. */
  quirks: Quirks = { ...DEFAULT_QUIRKS };
  /** How often the identity-provider stand-in's JWKS was fetched (kept in memory, like the counters). */
  jwksFetches = 0;

  constructor(
    readonly settings: Settings,
    public state: AccountState,
    private readonly persistence: Persistence,
    private readonly sendWebhook: (request: Request) => Promise<Response>,
  ) {}

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
      if (this.webhookLog.length > WEBHOOK_LOG_SIZE) this.webhookLog.shift();
    }
  }

  async reset(): Promise<void> {
    this.quirks = { ...DEFAULT_QUIRKS };
    this.state = seedState(this.settings, this.now());
    this.counters.clear();
    this.faults.clear();
    this.rateLimit.reset();
    this.webhookLog.length = 0;
    // The seeded state has an empty JWKS, so the saved one is cleared too.
    this.jwksFetches = 0;
    await this.save();
  }
}
