// Starts `wrangler dev` servers in their own process groups and stops them by group, so that
// no workerd is ever left behind (killing the npx pid alone leaves workerd running).
import { spawn } from "node:child_process";

export const OFFLINE_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

const started = new Set();

export function startWrangler(name, args, { quiet = false } = {}) {
  const child = spawn("npx", ["wrangler", "dev", ...args], {
    env: OFFLINE_ENV,
    detached: true,
    stdio: ["ignore", quiet ? "ignore" : "pipe", quiet ? "ignore" : "pipe"],
  });
  started.add(child);
  if (!quiet) {
    const prefix = (chunk) =>
      chunk
        .toString()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => `[${name}] ${line}`)
        .join("\n");
    child.stdout.on("data", (chunk) => console.log(prefix(chunk)));
    child.stderr.on("data", (chunk) => console.error(prefix(chunk)));
  }
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
