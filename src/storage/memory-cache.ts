// A small per-isolate cache with expiry. It keeps the hot path off D1 (docs/design.md); its TTL,
// MEMORY_CACHE_SECONDS, is the documented bound on how late a grant revocation or a block
// takes effect in isolates other than the one that handled the admin call.

const MAX_ENTRIES = 10_000;

export class MemoryCache {
  private readonly entries = new Map<string, { value: unknown; expires: number }>();

  get<T>(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  set(key: string, value: unknown, ttlMs: number, now: number): void {
    if (ttlMs <= 0) return;
    if (this.entries.size >= MAX_ENTRIES) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires: now + ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key that starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
