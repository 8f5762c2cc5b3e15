// What tests and the demo use to observe and disturb the emulator: request counters, injected
// faults, the API rate limiter and the logs of what went out. All of it is kept in the account
// object's storage, because workerd evicts an idle object within seconds: a count kept in memory
// would restart from zero while a client waits between two calls. A reset clears it.

/** Where the instruments keep what they record: the account object's synchronous storage (account.ts). */
export type Memory = Pick<SyncKvStorage, "get" | "put" | "delete" | "list">;

/** One value kept under `key`: read when the object starts, written through on every change. */
export class Kept<T> {
  #value: T;

  constructor(
    private readonly memory: Memory,
    private readonly key: string,
    private readonly fallback: () => T,
  ) {
    this.#value = memory.get<T>(key) ?? fallback();
  }

  get(): T {
    return this.#value;
  }

  set(value: T): void {
    this.#value = value;
    this.memory.put(this.key, value);
  }

  /** Back to the fallback, in storage too. */
  clear(): void {
    this.#value = this.fallback();
    this.memory.delete(this.key);
  }
}

/** REST API calls, by the names counters and faults use: what `api` in the counters adds up. */
export const REST_OPERATIONS = [
  "videos.list",
  "videos.get",
  "videos.edit",
  "downloads.get",
  "downloads.create",
  "downloads.delete",
  "keys.create",
  "keys.list",
  "keys.delete",
  "webhook.update",
  "webhook.get",
  "webhook.delete",
  "token.create",
  "queues.subscriptions.create",
  "queues.subscriptions.list",
  "queues.subscriptions.get",
  "queues.subscriptions.edit",
  "queues.subscriptions.delete",
  "queues.list",
] as const;
export type RestOperation = (typeof REST_OPERATIONS)[number];

/**
 * Calls through the Workers binding entry point (binding.ts), counted apart from REST calls so
 * that a test can tell which way a client reached Stream.
 */
export const BINDING_OPERATIONS = [
  "binding.details",
  "binding.downloads.get",
  "binding.downloads.generate",
  "binding.downloads.delete",
  "binding.videos.list",
] as const;
export type BindingOperation = (typeof BINDING_OPERATIONS)[number];

/** What a fault can strike: `*` for every one of them. */
export const FAULT_OPERATIONS = ["*", ...REST_OPERATIONS, "delivery", ...BINDING_OPERATIONS] as const;

/** Operation names, as used by counters and faults. */
export type Operation =
  | RestOperation
  | BindingOperation
  | "delivery"
  /** A HEAD on the delivery host: headers only, no body served (counted apart from downloads). */
  | "delivery.head"
  /** A poster frame served (thumbnails are not downloads: they cost no delivered minutes). */
  | "delivery.thumbnail"
  /** A message sent to the events queue (not a call anyone made). */
  | "events.publish";

const isRest = (operation: string) => (REST_OPERATIONS as readonly string[]).includes(operation);

// Counts are kept one key per operation (and per video and operation), so a call writes two
// small values instead of the whole table: tests seed thousands of videos.
const COUNTS = "counts/";

export class Counters {
  constructor(private readonly memory: Memory) {}

  count(operation: Operation, video: string | undefined): void {
    for (const scope of video === undefined ? [ALL] : [ALL, perVideo(video)]) {
      const key = `${COUNTS}${scope}${operation}`;
      this.memory.put(key, (this.memory.get<number>(key) ?? 0) + 1);
    }
  }

  /** REST API calls (neither delivery nor binding calls) and deliveries, overall or for one video. */
  snapshot(video?: string) {
    const prefix = `${COUNTS}${video === undefined ? ALL : perVideo(video)}`;
    const byOperation: Record<string, number> = {};
    for (const [key, n] of this.memory.list<number>({ prefix })) byOperation[key.slice(prefix.length)] = n;
    let api = 0;
    for (const [operation, n] of Object.entries(byOperation)) if (isRest(operation)) api += n;
    return { api, delivery: byOperation.delivery ?? 0, byOperation };
  }

  clear(): void {
    const keys = [...this.memory.list({ prefix: COUNTS })].map(([key]) => key);
    for (const key of keys) this.memory.delete(key);
  }
}

const ALL = "all/";
// A binding caller may name a video with any string, so it is escaped to stay one path segment.
const perVideo = (video: string) => `video/${encodeURIComponent(video)}/`;

export interface Fault {
  id: number;
  /** An operation name, or "*" for every API operation, binding call and delivery. */
  operation: (typeof FAULT_OPERATIONS)[number];
  video: string | null;
  /** HTTP status to answer with instead of the real answer; null to only add latency. */
  status: number | null;
  code: number | null;
  message: string | null;
  retryAfter: number | null;
  latencyMs: number;
  /** How many more requests it hits; null for every one. */
  remaining: number | null;
}

export class Faults {
  readonly #kept: Kept<{ list: Fault[]; nextId: number }>;

  constructor(memory: Memory) {
    this.#kept = new Kept(memory, "faults", () => ({ list: [], nextId: 1 }));
  }

  add(fault: Omit<Fault, "id">): Fault {
    const { list, nextId } = this.#kept.get();
    const added = { ...fault, id: nextId };
    this.#kept.set({ list: [...list, added], nextId: nextId + 1 });
    return added;
  }

  /** The first fault that matches one of `operations`, with one of its uses taken. */
  take(operations: Operation | readonly Operation[], video: string | undefined): Fault | undefined {
    const names: readonly string[] = typeof operations === "string" ? [operations] : operations;
    const faults = this.#kept.get();
    const fault = faults.list.find(
      (f) =>
        (f.operation === "*" || names.includes(f.operation)) &&
        (f.video === null || f.video === video) &&
        (f.remaining === null || f.remaining > 0),
    );
    if (fault?.remaining != null) {
      fault.remaining -= 1;
      this.#kept.set(faults);
    }
    return fault;
  }

  all(): Fault[] {
    return [...this.#kept.get().list];
  }

  remove(id: number): boolean {
    const { list, nextId } = this.#kept.get();
    const kept = list.filter((f) => f.id !== id);
    this.#kept.set({ list: kept, nextId });
    return kept.length < list.length;
  }

  clear(): void {
    this.#kept.clear();
  }
}

/** What an injected fault makes a call fail with, its defaults filled in as Stream's REST API would. */
export interface InjectedFailure {
  status: number;
  code: number;
  message: string;
  /** Seconds, for a retry-after header; null when none is sent. */
  retryAfter: number | null;
}

/** Waits out the fault's latency; then the failure it injects, if it has a status. */
export async function strike(fault: Fault | undefined): Promise<InjectedFailure | null> {
  if (!fault) return null;
  if (fault.latencyMs > 0) await scheduler.wait(fault.latencyMs);
  if (fault.status === null) return null;
  const status = fault.status;
  return {
    status,
    code: fault.code ?? (status === 429 ? 971 : status >= 500 ? 10002 : 10005),
    message: fault.message ?? (status === 429 ? "Please wait and consider throttling your request speed" : "Injected fault"),
    // Stream always sends retry-after with a 429; an injected one without its own waits 1 s.
    retryAfter: fault.retryAfter ?? (status === 429 ? 1 : null),
  };
}

export interface RateLimitSettings {
  /** Requests allowed per window (Stream: 1,200 per 5 minutes per token). */
  limit: number;
  windowSeconds: number;
  /** How long an over-limit token stays locked out (Stream: 5 minutes). */
  lockoutSeconds: number;
}

export const STREAM_RATE_LIMIT: RateLimitSettings = { limit: 1200, windowSeconds: 300, lockoutSeconds: 300 };

interface RateLimitState {
  settings: RateLimitSettings;
  windowStart: number;
  used: number;
  lockedUntil: number;
}

const freshLimiter = (settings: RateLimitSettings = STREAM_RATE_LIMIT): RateLimitState => ({
  settings: { ...settings },
  windowStart: 0,
  used: 0,
  lockedUntil: 0,
});

export class RateLimiter {
  readonly #kept: Kept<RateLimitState>;

  constructor(memory: Memory) {
    this.#kept = new Kept(memory, "rate-limit", () => freshLimiter());
  }

  get settings(): RateLimitSettings {
    return { ...this.#kept.get().settings };
  }

  /** Seconds to wait when the call is refused, or 0 when it may go on. */
  hit(now: number): number {
    const state = this.#kept.get();
    if (now < state.lockedUntil) return Math.ceil((state.lockedUntil - now) / 1000);
    if (now - state.windowStart >= state.settings.windowSeconds * 1000) {
      state.windowStart = now;
      state.used = 0;
    }
    state.used += 1;
    let wait = 0;
    if (state.used > state.settings.limit) {
      state.lockedUntil = now + state.settings.lockoutSeconds * 1000;
      wait = state.settings.lockoutSeconds;
    }
    this.#kept.set(state);
    return wait;
  }

  reset(settings: RateLimitSettings = STREAM_RATE_LIMIT): void {
    this.#kept.set(freshLimiter(settings));
  }
}

/** The last `size` entries of something that went out (webhook calls, published events), oldest first. */
export class Log<T> {
  readonly #kept: Kept<T[]>;

  constructor(
    memory: Memory,
    key: string,
    private readonly size: number,
  ) {
    this.#kept = new Kept<T[]>(memory, key, () => []);
  }

  push(entry: T): void {
    this.#kept.set([...this.#kept.get(), entry].slice(-this.size));
  }

  entries(): T[] {
    return [...this.#kept.get()];
  }

  clear(): void {
    this.#kept.clear();
  }
}
