// Starts `wrangler dev` servers in their own process groups and stops them by group, so that
// no workerd is ever left behind (killing the npx pid alone leaves workerd running).
import { spawn } from "node:child_process";

export const OFFLINE_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

const started = new Set();

/** Lines of a quiet server's output kept, for `recentOutput` when it fails to start. */
const KEPT_LINES = 200;

export function startWrangler(name, args, { quiet = false } = {}) {
  const child = spawn("npx", ["wrangler", "dev", ...args], {
    env: OFFLINE_ENV,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  const prefix = (chunk) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => `[${name}] ${line}`);
  // A quiet server's output is kept, not shown: a server that never answers can still say why.
  const kept = [];
  const keep = (chunk) => {
    kept.push(...prefix(chunk));
    kept.splice(0, Math.max(0, kept.length - KEPT_LINES));
  };
  child.stdout.on("data", (chunk) => (quiet ? keep(chunk) : console.log(prefix(chunk).join("\n"))));
  child.stderr.on("data", (chunk) => (quiet ? keep(chunk) : console.error(prefix(chunk).join("\n"))));
  child.recentOutput = () => kept.join("\n");
  child.on("exit", () => started.delete(child));
  return child;
}

export function stopAll() {
  for (const child of started) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // The group is already gone.
    }
  }
  started.clear();
}

/** Polls `url` until it answers (any status), or throws after `timeoutMs`. */
export async function waitFor(url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/** Stops every server on exit, Ctrl-C or an uncaught error. */
export function stopOnExit() {
  process.on("exit", stopAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      stopAll();
      process.exit(130);
    });
  }
}
