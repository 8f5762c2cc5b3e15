// The emulated account: state, persistence and the instruments, shared by the API, delivery
// host and control routes. One instance lives in the account's Durable Object.
import { eventVideo, type StreamEvent } from "./events/catalog";
import { downloadEvent, messagesFor, videoEvent, type PublishedEvent } from "./events/publish";
import { Counters, Faults, Kept, Log, RateLimiter, type Memory } from "./instruments";
import { DEFAULT_QUIRKS, Quirks } from "./quirks";
import { renderVideo } from "./render";
import { seedState } from "./seed";
import type { Settings } from "./settings";
import { DOWNLOAD_TYPES, videoState, type AccountState, type Jwks, type VideoRecord } from "./store";
import { deliverWebhook, type WebhookDelivery } from "./webhooks/deliver";

/** Where state survives restarts and when the next webhook or event is due. */
export interface Persistence {
  save(state: AccountState): Promise<void>;
  wakeAt(time: number | null): Promise<void>;
}

/** Where what the account sends goes. */
export interface Outlets {
  /** A webhook call: fetch, or a service binding in tests. */
  webhook(request: Request): Promise<Response>;
  /** The queue that event subscriptions publish to (the STREAM_EVENTS binding), when there is one. */
  events: Queue | undefined;
}

const LOG_SIZE = 100;

export class Emulator {
  readonly counters: Counters;
  readonly faults: Faults;
  readonly rateLimit: RateLimiter;
  readonly webhookLog: Log<WebhookDelivery>;
  readonly eventLog: Log<PublishedEvent>;
  /** The undocumented choices in force (control API). */
  readonly #quirks: Kept<Quirks>;
  /** How often the identity-provider stand-in's JWKS was fetched. */
  readonly #jwksFetches: Kept<number>;

  constructor(
    readonly settings: Settings,
    public state: AccountState,
    private readonly persistence: Persistence,
    memory: Memory,
    private readonly outlets: Outlets,
  ) {
    this.counters = new Counters(memory);
    this.faults = new Faults(memory);
    this.rateLimit = new RateLimiter(memory);
    this.webhookLog = new Log(memory, "webhook-deliveries", LOG_SIZE);
    this.eventLog = new Log(memory, "events", LOG_SIZE);
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

  /** Whether events can go out at all: without the STREAM_EVENTS binding nothing is published. */
  get publishes(): boolean {
    return this.outlets.events !== undefined;
  }

  /** Records an event that has just happened; the alarm publishes it once the state is saved. */
  happened(event: StreamEvent): void {
    (this.state.outbox ??= []).push(event);
  }

  /** A video's settings changed: Stream tells subscribers of `video_state.updated` once it is ready. */
  videoUpdated(video: VideoRecord, wasReady: boolean): void {
    if (wasReady) this.happened(videoEvent("video_state.updated", video, this.now(), this.settings, this.quirks));
  }

  /** Persists the state and sets the alarm for the next webhook or event that is owed. */
  async save(): Promise<void> {
    await this.persistence.save(this.state);
    const due: number[] = (this.state.outbox ?? []).map((e) => e.at);
    for (const video of Object.values(this.state.videos)) {
      if (video.notifyAt !== null) due.push(video.notifyAt);
      for (const type of DOWNLOAD_TYPES) {
        const at = video.downloads[type]?.eventAt;
        if (at !== undefined) due.push(at);
      }
    }
    await this.persistence.wakeAt(due.length ? Math.min(...due) : null);
  }

  /**
   * The alarm's work: calls the webhook for every video whose processing has finished since the
   * last call, and publishes every event owed by now, in the order they happened.
   */
  async deliverDue(): Promise<void> {
    const now = this.now();
    const events = this.state.outbox ?? [];
    this.state.outbox = [];
    const finished: VideoRecord[] = [];
    for (const video of Object.values(this.state.videos)) {
      if (video.notifyAt !== null && video.notifyAt <= now) {
        const type = videoState(video, video.notifyAt) === "ready" ? "video_state.ready" : "video_state.errored";
        events.push(videoEvent(type, video, video.notifyAt, this.settings, this.quirks));
        video.notifyAt = null;
        finished.push(video);
      }
      for (const downloadType of DOWNLOAD_TYPES) {
        const download = video.downloads[downloadType];
        if (download?.eventAt === undefined || download.eventAt > now) continue;
        const type = download.outcome === "error" ? "download.errored" : "download.ready";
        events.push(downloadEvent(type, video, downloadType, download.eventAt, this.settings));
        delete download.eventAt;
      }
    }
    await this.save();
    const subscription = this.state.webhook;
    if (subscription) {
      for (const video of finished) {
        const delivery = await deliverWebhook(subscription, renderVideo(video, this.settings, now, this.quirks), this.outlets.webhook, now);
        this.webhookLog.push(delivery);
      }
    }
    // Stable: an event recorded as it happened goes before one owed at the same moment (a
    // download created already finished is created, then ready).
    await this.#publish(events.sort((a, b) => a.at - b.at));
  }

  async #publish(events: StreamEvent[]): Promise<void> {
    const queue = this.outlets.events;
    if (!queue) return;
    const subscriptions = Object.values(this.state.eventSubscriptions ?? {});
    for (const event of events) {
      for (const message of messagesFor(event, subscriptions, this.settings.accountId, this.quirks)) {
        this.counters.count("events.publish", eventVideo(event));
        let error: string | null = null;
        try {
          await queue.send(message);
        } catch (failure) {
          error = failure instanceof Error ? failure.message : String(failure);
        }
        this.eventLog.push({ at: new Date(this.now()).toISOString(), queue: this.settings.eventsQueue.name, message, error });
      }
    }
  }

  async reset(): Promise<void> {
    this.#quirks.clear();
    this.state = seedState(this.settings, this.now());
    this.counters.clear();
    this.faults.clear();
    this.rateLimit.reset();
    this.webhookLog.clear();
    this.eventLog.clear();
    // The seeded state has an empty JWKS, so the saved one is cleared too.
    this.#jwksFetches.clear();
    await this.save();
  }
}
