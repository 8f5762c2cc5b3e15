// Vitest global setup of the browser suite: the Stream emulator and the gateway under
// `wrangler dev`, as `npm run dev` runs them, but on ports of their own (8777/8778) and with all
// state in a temporary directory, so every run starts from the seeded emulator and a developer's
// `npm run dev` (ports, .wrangler/ state, .dev.vars) is never touched. Teardown stops both
// process groups and waits until no process of them is left.
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildClient } from "../../client/build.mjs";
import { DEV_EVENTS_SECRET, DEV_WEBHOOK_SECRET, ensureDevVars, readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { ensureEventSubscription } from "../../scripts/lib/event-subscription.mjs";
import { OFFLINE_ENV, startWrangler, stopAll, waitFor } from "../../scripts/lib/servers.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    gateway: string;
    /** Where tests save downloads; removed with the rest. */
    downloads: string;
    /** The dev-only settings both servers run with (what `.dev.vars` is to `npm run dev`). */
    devVarsFile: string;
    /** The emulator's origin. */
    emulator: string;
  }
}

const gatewayPort = Number(process.env["E2E_GATEWAY_PORT"] ?? 8777);
const emulatorPort = Number(process.env["E2E_EMULATOR_PORT"] ?? 8778);
const gateway = `http://localhost:${gatewayPort}`;
const emulator = `http://localhost:${emulatorPort}`;
/** `E2E_LOGS=1` shows both servers' output. */
const quiet = !process.env["E2E_LOGS"];

/** Something already answering there would be tested instead of the fresh servers. */
async function requireFree(url: string): Promise<void> {
  const answered = await fetch(url).then(
    async (res) => (await res.body?.cancel(), true),
    () => false,
  );
  if (answered) throw new Error(`${url} already answers: stop that server, or set E2E_GATEWAY_PORT / E2E_EMULATOR_PORT`);
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to each group (stopAll), SIGKILL to what is left after 5 s; resolves when all are gone. */
async function stopServers(children: ChildProcess[]): Promise<void> {
  stopAll();
  const deadline = Date.now() + 5_000;
  while (children.some((c) => c.pid !== undefined && groupAlive(c.pid))) {
    if (Date.now() > deadline) {
      for (const c of children) if (c.pid !== undefined && groupAlive(c.pid)) process.kill(-c.pid, "SIGKILL");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function printLogs(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const text = readFileSync(join(dir, name), "utf8");
    console.error(`--- ${name} (last 40 lines)\n${text.split("\n").slice(-40).join("\n")}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const work = mkdtempSync(join(tmpdir(), "sdg-e2e-"));
  const persistTo = join(work, "state");
  const logs = join(work, "logs");
  // Wrangler's debug logs and dev registry of this run stay in it too: another `wrangler dev`
  // starting on the machine, or an edit of a wrangler.toml, then makes no server reload mid-run.
  Object.assign(OFFLINE_ENV, {
    WRANGLER_LOG_PATH: logs,
    WRANGLER_REGISTRY_PATH: join(work, "registry"),
    CLOUDFLARE_DEV_REGISTRY_PATH: join(work, "registry"),
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
  });
  // The dev-only fixtures in a file of our own (`--env-file` makes wrangler skip .dev.vars).
  const envFile = join(work, "dev.vars");
  ensureDevVars(envFile);
  const children: ChildProcess[] = [];
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  // Vitest exiting without teardown (a crash, Ctrl-C) still takes the servers and files along.
  process.once("exit", () => {
    stopAll();
    removeWork();
  });
  try {
    await Promise.all([requireFree(gateway), requireFree(emulator)]);
    await buildClient();
    execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
      env: OFFLINE_ENV,
      stdio: "ignore",
    });
    const common = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--env-file", envFile];
    children.push(
      startWrangler(
        "emulator",
        [
          "-c", "emulator/wrangler.toml", "--port", String(emulatorPort), "--inspector-port", String(emulatorPort + 1000),
          "--var", `DELIVERY_BASE:${emulator}`,
          // A state directory of its own: two workerd processes writing one SQLite directory
          // at start-up can meet SQLITE_BUSY.
          "--persist-to", join(work, "emulator-state"),
          ...common,
        ],
        { output: quiet ? "none" : "all" },
      ),
      startWrangler(
        "gateway",
        [
          "src/dev.ts", "-c", "wrangler.toml", "--port", String(gatewayPort), "--inspector-port", String(gatewayPort + 1000),
          "--var", `STREAM_API_BASE:${emulator}/client/v4`, "--var", `STREAM_DELIVERY_BASE:${emulator}`,
          "--var", "PREPARE_DOWNLOADS:default,audio", "--var", "DEMO_ENABLED:true", "--var", "AUTH_COOKIE_NAME:sdg_session",
          "--var", `EVENTS_URL:http://127.0.0.1:${gatewayPort}/demo/events`, "--var", `EVENTS_SECRET:${DEV_EVENTS_SECRET}`,
          "--persist-to", persistTo,
          ...common,
        ],
        { output: quiet ? "none" : "all" },
      ),
    );
    await Promise.all([waitFor(`${emulator}/__emulator/faults`), waitFor(`${gateway}/healthz`)]);
    // As `npm run dev` does: Stream events reach this gateway, signed with its secret.
    const res = await fetch(`${emulator}/__emulator/webhook`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ notificationUrl: `${gateway}/webhooks/stream`, secret: DEV_WEBHOOK_SECRET }),
    });
    if (!res.ok) throw new Error(`could not subscribe the emulator's webhook: ${res.status} ${await res.text()}`);
    // And Stream's events reach its queue, through this run's own dev registry.
    const vars = readDevVars(envFile);
    const account = { apiBase: `${emulator}/client/v4`, accountId: vars["STREAM_ACCOUNT_ID"], apiToken: vars["STREAM_API_TOKEN"] };
    await ensureEventSubscription(account, { say: () => {}, warn: (line: string) => console.error(line) });
  } catch (error) {
    for (const child of children) console.error((child as ChildProcess & { recentOutput(): string }).recentOutput());
    await stopServers(children);
    printLogs(logs);
    removeWork();
    throw error;
  }
  project.provide("gateway", gateway);
  project.provide("emulator", emulator);
  project.provide("devVarsFile", envFile);
  const downloads = join(work, "downloads");
  mkdirSync(downloads);
  project.provide("downloads", downloads);
  return async () => {
    await stopServers(children);
    removeWork();
  };
}
