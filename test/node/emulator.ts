// The Stream emulator run in-process by Miniflare for Node-side tests (setup, doctor): one per
// test file, stopped with it.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { bundleEmulator } from "../../emulator/bundle.mjs";

export interface NodeEmulator {
  /** Its origin, without a trailing slash. */
  origin: string;
  /** A call to its control API (/__emulator); throws unless it answers 2xx. */
  control<T>(method: string, path: string, body?: unknown): Promise<T>;
  dispose(): Promise<void>;
}

export async function startEmulator(bindings: Record<string, string>): Promise<NodeEmulator> {
  // Miniflare 5 takes its own option shape; the converter accepts the familiar Miniflare 3/4 one.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: await bundleEmulator(),
      compatibilityDate: "2026-11-09",
      bindings: { DELIVERY_BASE: "http://delivery.invalid", ...bindings },
      durableObjects: { ACCOUNT: { className: "StreamAccount", useSQLite: true } },
    }),
  );
  const origin = (await mf.ready).origin.replace(/\/$/, "");
  return {
    origin,
    async control<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${origin}/__emulator${path}`, {
        method,
        headers: body ? { "content-type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    dispose: () => mf.dispose(),
  };
}
