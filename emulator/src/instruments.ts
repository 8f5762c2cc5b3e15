// What tests and the demo use to observe and disturb the emulator: request counters, injected
// faults and the API rate limiter. None of it is persisted; a reset clears it.

/** Operation names, as used by counters and faults. */
export type Operation =
  | "videos.list"
  | "videos.get"
  | "videos.edit"
  | "downloads.get"
  | "downloads.create"
  | "downloads.delete"
  | "keys.create"
  | "keys.list"
  | "keys.delete"
  | "webhook.update"
  | "webhook.get"
  | "webhook.delete"
  | "token.create"
  | "delivery"
  /** A HEAD on the delivery host: headers only, no body served (counted apart from downloads). */
  | "delivery.head"
  /** A poster frame served (thumbnails are not downloads: they cost no delivered minutes). */
  | "delivery.thumbnail"
  | BindingOperation;

/**
 * Calls through the Workers binding entry point (binding.ts), counted apart from REST calls so
 * that a test can tell which way a client reached Stream.
 */
export type BindingOperation =
  | "binding.details"
  | "binding.downloads.get"
  | "binding.downloads.generate"
  | "binding.downloads.delete"
  | "binding.videos.list";

const isRest = (operation: string) => !operation.startsWith("delivery") && !operation.startsWith("binding.");

export class Counters {
  private byOperation = new Map<string, number>();
  private byVideo = new Map<string, Map<string, number>>();

  count(operation: Operation, video: string | undefined): void {
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
    if (!video) return;
    const counts = this.byVideo.get(video) ?? new Map<string, number>();
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    this.byVideo.set(video, counts);
  }

  /** REST API calls (neither delivery nor binding calls) and deliveries, overall or for one video. */
  snapshot(video?: string) {
    const counts = video ? (this.byVideo.get(video) ?? new Map<string, number>()) : this.byOperation;
    const byOperation = Object.fromEntries(counts);
    let api = 0;
    for (const [operation, n] of counts) if (isRest(operation)) api += n;
    return { api, delivery: counts.get("delivery") ?? 0, byOperation };
  }

  clear(): void {
    this.byOperation.clear();
    this.byVideo.clear();
  }
}

export interface Fault {
  id: number;
  /** An operation name, or "*" for every API operation and delivery. */
  operation: Operation | "*";
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
  private list: Fault[] = [];
  private nextId = 1;

  add(fault: Omit<Fault, "id">): Fault {
    const added = { ...fault, id: this.nextId++ };
    this.list.push(added);
    return added;
  }

  /** The first fault that matches one of `operations`, with one of its uses taken. */
  take(operations: Operation | readonly Operation[], video: string | undefined): Fault | undefined {
    const names: readonly string[] = typeof operations === "string" ? [operations] : operations;
    const fault = this.list.find(
      (f) =>
        (f.operation === "*" || names.includes(f.operation)) &&
        (f.video === null || f.video === video) &&
        (f.remaining === null || f.remaining > 0),
    );
    if (fault?.remaining != null) fault.remaining -= 1;
    return fault;
  }

  all(): Fault[] {
    return [...this.list];
  }

  remove(id: number): boolean {
    const before = this.list.length;
    this.list = this.list.filter((f) => f.id !== id);
    return this.list.length < before;
  }

  clear(): void {
    this.list = [];
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

export class RateLimiter {
  settings: RateLimitSettings = { ...STREAM_RATE_LIMIT };
  private windowStart = 0;
  private used = 0;
  private lockedUntil = 0;

  /** Seconds to wait when the call is refused, or 0 when it may go on. */
  hit(now: number): number {
    if (now < this.lockedUntil) return Math.ceil((this.lockedUntil - now) / 1000);
    if (now - this.windowStart >= this.settings.windowSeconds * 1000) {
      this.windowStart = now;
      this.used = 0;
    }
    this.used += 1;
    if (this.used <= this.settings.limit) return 0;
    this.lockedUntil = now + this.settings.lockoutSeconds * 1000;
    return this.settings.lockoutSeconds;
  }

  reset(settings: RateLimitSettings = STREAM_RATE_LIMIT): void {
    this.settings = { ...settings };
    this.windowStart = 0;
    this.used = 0;
    this.lockedUntil = 0;
  }
}
