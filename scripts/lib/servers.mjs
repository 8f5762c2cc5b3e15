// Starts `wrangler dev` servers in their own process groups and stops them by group, so that
// no workerd is ever left behind (killing the npx pid alone leaves workerd running); and records
// where `npm run dev` runs, for `npm run doctor` to find it on any ports.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const OFFLINE_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

const started = new Set();

/** Lines of a server's output kept, for `recentOutput` when it fails to start. */
const KEPT_LINES = 200;

/** A line shown at once, even before `show()`: wrangler marks errors with ✘, the Worker's with [ERROR]. */
const ALARMING = /✘|\[ERROR\]/;

/** How many lines after an error's are shown with it. */
const ERROR_DETAIL_LINES = 20;

/**
 * A server's line with the capabilities in its URLs cut, as the gateway's own log lines cut them
 * (`loggedPath`, docs/operations.md › Logs and monitoring): wrangler prints every request's path,
 * and a share link's secret, a grant's ticket or the signed token in a Stream URL (the
 * emulator's lines) opens the file to whoever reads the terminal.
 */
export function maskCapabilities(line) {
  return line
    .replace(/\/s\/([A-Za-z0-9_-]+)/g, (_, secret) => `/s/${secret.slice(0, 4)}…`)
    .replace(/\/d\/[^\s/?#"]+/g, "/d/…")
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "eyJ…");
}

/**
 * `output`: "none" (tests), "all", or "errors" (the default): then the server's output is kept,
 * not shown, until the caller calls `child.show()`, so that wrangler's start-up report (its banner,
 * the bindings table, which .dev.vars it read, a types hint) and the caller's own readiness checks
 * stay out of sight while `npm run dev` prints its own summary. Errors are shown unless "none".
 */
export function startWrangler(name, args, options = {}) {
  return startServer(name, ["npx", "wrangler", "dev", ...args], options);
}

/** Any server command (`argv`), run in `cwd`, kept and shown as `startWrangler` says. */
export function startServer(name, [command, ...args], { output = "errors", cwd = process.cwd(), env = OFFLINE_ENV } = {}) {
  const child = spawn(command, args, {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Kept until stopAll, even once npx has exited: its workerd may live on in the group.
  started.add(child);
  let showing = output === "all";
  // An error's own line comes with its details (a build error's file, line and code frame) after it.
  let details = 0;
  const kept = [];
  const take = (stream) => (chunk) => {
    for (const text of chunk.toString().split("\n")) {
      if (text.trim() === "") continue;
      const line = `[${name}] ${maskCapabilities(text)}`;
      kept.push(line);
      kept.splice(0, Math.max(0, kept.length - KEPT_LINES));
      if (ALARMING.test(text)) details = ERROR_DETAIL_LINES + 1;
      const shown = showing || details > 0;
      details = Math.max(0, details - 1);
      if (output !== "none" && shown) (stream === "stderr" ? console.error : console.log)(line);
    }
  };
  child.stdout.on("data", take("stdout"));
  child.stderr.on("data", take("stderr"));
  child.show = () => {
    showing = true;
  };
  /** What the server printed last: why one that never answered did not start. */
  child.recentOutput = () => kept.join("\n");
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

/** Where `npm run dev` records its servers while it runs (git-ignored, under wrangler's own state). */
export const DEV_SERVERS_FILE = ".wrangler/dev-servers.json";

/** Records this process's pair (`{ gateway, emulator }` URLs) and forgets it again when this process exits. */
export function recordDevServers(servers, cwd = process.cwd()) {
  const file = join(cwd, DEV_SERVERS_FILE);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...servers, pid: process.pid }, null, 2)}\n`);
  process.on("exit", () => {
    // Another `npm run dev` started since in this checkout owns the record now.
    if (record(file)?.pid === process.pid) rmSync(file, { force: true });
  });
}

/** The pair a running `npm run dev` recorded, or null: none recorded, or its process is gone (killed without its exit handler). */
export function recordedDevServers(cwd = process.cwd()) {
  const found = record(join(cwd, DEV_SERVERS_FILE));
  if (found === null || !Number.isInteger(found.pid) || !alive(found.pid)) return null;
  const { gateway, emulator } = found;
  return typeof gateway === "string" && typeof emulator === "string" ? { gateway, emulator } : null;
}

/** The record as written, or null when there is none (or it cannot be read). */
function record(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return error.code === "EPERM";
  }
}
