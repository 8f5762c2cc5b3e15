// `npm run bench`: the performance bars of bench/README.md in one run. Starts the Stream emulator,
// the gateway (production settings, secrets from a temporary env file) and a sign-per-request
// peer Worker with `wrangler dev` on their own ports and a temporary state directory, loads each
// straight on its user Worker's port with autocannon, counts Stream API calls at the emulator,
// then runs the in-workerd benchmarks (vitest.bench.config.ts) on an idle machine. Writes
// bench/results.json and bench/chart.svg and prints the table. Every server it starts is stopped
// by process group, also on an error or Ctrl-C; the developer's .dev.vars and .wrangler state
// are never read or touched.
//
// The three Workers run from a snapshot taken at the start: the bundle `wrangler deploy` would
// upload, next to a copy of their config (and of public/ and migrations/), with config watching
// off and a dev registry of their own. An edit to the working tree, or another `wrangler dev`
// starting on the machine, would otherwise make wrangler reload a Worker, which restarts it on
// another port and mixes two builds into one measurement.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import { CONNECTIONS, load, summarize } from "../bench/lib/load.mjs";
import { userWorkerPort, waitGroupGone } from "../bench/lib/process-group.mjs";
import { attribution, chart, judge, table } from "../bench/lib/report.mjs";
import { OFFLINE_ENV, startWrangler, stopAll, stopOnExit, waitFor } from "./lib/servers.mjs";

const PORTS = {
  gateway: Number(process.env.BENCH_PORT ?? 8797),
  emulator: Number(process.env.BENCH_EMULATOR_PORT ?? 8798),
  peer: Number(process.env.BENCH_PEER_PORT ?? 8799),
};
/** Measured seconds per route, split into rounds that visit every route in turn, so that a change
 * in the machine's load (other processes) falls on all routes alike rather than on one. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = 3;
const WARMUP_SECONDS = 1;
/**
 * Distinct users, one per request in turn, each with its own address: USER_RATE_LIMITER and
 * IP_RATE_LIMITER allow 60 and 120 a minute. (Locally, wrangler sets CF-Connecting-IP to
 * 127.0.0.1 when a request has none, so every request would share one address.)
 */
const USERS = 5000;
const READY_VIDEO = "c0ffee00000000000000000000000001";
/** Seeded by this script: a download that stays in progress for the whole run. */
const WAITING_VIDEO = "be4c0000000000000000000000000001";
const WAITING_USERS = 1000;
const WAITING_PER_SECOND = 100;
const POLL_INTERVAL_SECONDS = Number(/^POLL_INTERVAL_SECONDS\s*=\s*"(\d+)"/m.exec(readFileSync("wrangler.toml", "utf8"))?.[1] ?? 5);

const dev = JSON.parse(readFileSync("emulator/fixtures/dev-account.json", "utf8"));
const authSecret = randomBytes(32).toString("hex");
const emulatorUrl = `http://127.0.0.1:${PORTS.emulator}`;
const startedAt = Date.now();

// Everything this run writes outside bench/: env files, D1 and Durable Object state, wrangler logs.
const tmp = mkdtempSync(path.join(os.tmpdir(), "sdg-bench-"));
OFFLINE_ENV.WRANGLER_LOG_PATH = path.join(tmp, "logs");
OFFLINE_ENV.WRANGLER_CI_DISABLE_CONFIG_WATCHING = "true";
OFFLINE_ENV.WRANGLER_REGISTRY_PATH = path.join(tmp, "registry");
OFFLINE_ENV.CLOUDFLARE_DEV_REGISTRY_PATH = path.join(tmp, "registry");
const groups = {};
let stopping = false;
const vitestGroups = new Set();
stopOnExit();
process.on("exit", () => {
  for (const pgid of vitestGroups) killGroup(pgid);
  for (const pgid of [...Object.values(groups), ...vitestGroups]) waitGroupGone(pgid, 5000);
  rmSync(tmp, { recursive: true, force: true });
});

function killGroup(pgid) {
  try {
    process.kill(-pgid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

function envFile(name, vars) {
  const file = path.join(tmp, `${name}.env`);
  writeFileSync(file, Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
  return file;
}

/** The Worker as `wrangler deploy` would upload it, with a copy of its config and `dirs`. */
function snapshot(name, config, dirs = []) {
  const app = path.join(tmp, `${name}-app`);
  mkdirSync(app);
  copyFileSync(config, path.join(app, "wrangler.toml"));
  for (const dir of dirs) cpSync(path.join(path.dirname(config), dir), path.join(app, dir), { recursive: true });
  const build = path.join(tmp, `${name}-build`);
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", build, "-c", config], { env: OFFLINE_ENV, stdio: ["ignore", "pipe", "inherit"] });
  return ["-c", path.join(app, "wrangler.toml"), "--no-bundle", path.join(build, "index.js")];
}

function startServer(name, port, args) {
  const child = startWrangler(name, [
    ...args, "--port", String(port), "--inspector-port", String(port + 1000), "--ip", "127.0.0.1",
    "--persist-to", path.join(tmp, name), "--log-level", "error", "--show-interactive-dev-session=false",
  ]);
  groups[name] = child.pid;
  child.on("exit", (code) => {
    if (stopping) return;
    console.error(`bench: ${name} exited (${code ?? "signal"}); stopping.`);
    process.exit(1);
  });
}

async function json(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

const counters = (video) => json(`${emulatorUrl}/__emulator/counters?video=${video}`);

function appToken(user) {
  return new SignJWT({ videos: "*" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(authSecret));
}

/** Runs the in-workerd benchmarks in their own process group; their JSON report. */
function vitestBench() {
  const report = path.join(tmp, "vitest.json");
  return new Promise((resolve, reject) => {
    const child = spawn(
      "npx",
      ["vitest", "run", "--config", "vitest.bench.config.ts", "--reporter=json", `--outputFile.json=${report}`],
      { env: OFFLINE_ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    vitestGroups.add(child.pid);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => {
      vitestGroups.delete(child.pid);
      if (code !== 0) return reject(new Error(`vitest bench failed (${code}):\n${output}`));
      const meta = Object.assign({}, ...JSON.parse(readFileSync(report, "utf8")).testResults.flatMap((f) => f.assertionResults.map((a) => a.meta)));
      resolve(meta);
    });
  });
}

async function main() {
  console.log(`bench: starting the emulator, the gateway and the peer Worker (state in ${tmp})`);
  const gatewayEnv = envFile("gateway", {
    STREAM_ACCOUNT_ID: dev.accountId,
    STREAM_API_TOKEN: dev.apiToken,
    STREAM_KEY_ID: dev.signingKey.id,
    STREAM_KEY_JWK: dev.signingKey.jwk,
    AUTH_HS256_SECRET: authSecret,
    ADMIN_API_TOKEN: randomBytes(24).toString("hex"),
  });
  const gatewayApp = snapshot("gateway", "wrangler.toml", ["public", "migrations"]);
  // What `wrangler deploy` uploads (wrangler.toml's minify included).
  const uploaded = readFileSync(path.join(tmp, "gateway-build", "index.js"));
  const bundle = { bytes: uploaded.byteLength, gzipBytes: gzipSync(uploaded).byteLength };
  const emulatorApp = snapshot("emulator", "emulator/wrangler.toml");
  const peerApp = snapshot("peer", "bench/peer/wrangler.toml");
  execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", path.join(tmp, "gateway"), ...gatewayApp.slice(0, 2)], {
    env: OFFLINE_ENV,
    stdio: ["ignore", "pipe", "inherit"],
  });
  startServer("emulator", PORTS.emulator, [...emulatorApp, "--env-file", envFile("emulator", {}), "--var", `DELIVERY_BASE:${emulatorUrl}`]);
  startServer("gateway", PORTS.gateway, [
    ...gatewayApp, "--env-file", gatewayEnv,
    "--var", `STREAM_API_BASE:${emulatorUrl}/client/v4`, "--var", `STREAM_DELIVERY_BASE:${emulatorUrl}`,
  ]);
  startServer("peer", PORTS.peer, [
    ...peerApp, "--var", `DELIVERY_BASE:${emulatorUrl}`,
    "--env-file", envFile("peer", { STREAM_KEY_ID: dev.signingKey.id, STREAM_KEY_JWK: dev.signingKey.jwk }),
  ]);
  await Promise.all([
    waitFor(`${emulatorUrl}/__emulator/faults`),
    waitFor(`http://127.0.0.1:${PORTS.gateway}/healthz`),
    waitFor(`http://127.0.0.1:${PORTS.peer}/probe`),
  ]);
  const direct = {
    gateway: await userWorkerPort(groups.gateway, PORTS.gateway, "/healthz"),
    peer: await userWorkerPort(groups.peer, PORTS.peer, "/probe"),
  };
  console.log(`bench: user Workers on ports ${direct.gateway} (gateway) and ${direct.peer} (peer); minting ${USERS} app tokens`);
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => ({ token: await appToken(`bench-user-${i}`), ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` })),
  );

  const gateway = `http://127.0.0.1:${direct.gateway}`;
  const link = await json(`${gateway}/v1/videos/${READY_VIDEO}/share-links`, {
    method: "POST",
    headers: { authorization: `Bearer ${users[0].token}`, "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600, maxDownloads: 1_000_000, note: "npm run bench" }),
  });
  await json(`${emulatorUrl}/__emulator/videos`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uid: WAITING_VIDEO, name: "Bench: a long download", requireSignedURLs: true, state: "ready", downloadSeconds: 3600 }),
  });

  // Stream mode's file is served at the grant's own URL; the grant itself is a 303 (like the 302).
  const granted = await fetch(`${gateway}/v1/videos/${READY_VIDEO}/download?mode=stream`, {
    headers: { authorization: `Bearer ${users[0].token}`, "cf-connecting-ip": users[0].ip },
    redirect: "manual",
  });
  const ticket = new URL(granted.headers.get("location"), gateway).pathname;
  const onGateway = { port: direct.gateway, groups: { gateway: groups.gateway, emulator: groups.emulator } };
  let posts = 0;
  const plan = [
    { key: "healthz", label: "GET /healthz (baseline)", path: "/healthz", expect: 200, ...onGateway },
    { key: "download", label: "GET /v1/videos/:uid/download", path: `/v1/videos/${READY_VIDEO}/download`, expect: 302, hot: true, ...onGateway },
    {
      // Delivered through the gateway (a link's default): the grant is a 303 to its /d/ URL. Each
      // POST from a network of its own: a second one from a network would get its grant back.
      key: "share", label: "POST /s/<secret> (share link)", method: "POST", path: new URL(link.url).pathname,
      headers: { "content-type": "application/json" }, body: "{}", expect: 303, hot: true, ...onGateway,
      ip: () => `10.${(posts >> 8) & 255}.${posts++ & 255}.1`,
    },
    { key: "stream", label: "GET /d/<ticket> (stream mode's file, 68 KB)", path: ticket, expect: 200, hot: true, ...onGateway },
    { key: "peer", label: "peer Worker (docs example)", path: `/${READY_VIDEO}`, expect: 302, port: direct.peer, groups: { peer: groups.peer } },
  ];
  const runs = Object.fromEntries(plan.map((route) => [route.key, []]));
  const streamCalls = Object.fromEntries(plan.map((route) => [route.key, 0]));
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`bench: round ${round}/${ROUNDS}: each route ${WARMUP_SECONDS} s warm-up, ${SECONDS / ROUNDS} s load`);
    for (const route of plan) {
      await load(route, { users, seconds: WARMUP_SECONDS });
      const before = await counters(READY_VIDEO);
      runs[route.key].push(await load(route, { users, seconds: SECONDS / ROUNDS, groups: route.groups }));
      streamCalls[route.key] += (await counters(READY_VIDEO)).api - before.api;
    }
  }
  const routes = {};
  for (const route of plan) {
    const measured = summarize(runs[route.key], route.expect);
    routes[route.key] = { key: route.key, label: route.label, ...measured, streamApiCalls: streamCalls[route.key] };
    if (measured.unexpected || measured.errors) {
      console.error(
        `bench: ${route.label}: ${measured.errors} connection errors, statuses ${JSON.stringify(measured.statuses)}` +
          (measured.errors ? " (connection errors mean the Worker restarted on another port mid-run)" : ""),
      );
    }
  }
  const hotPathCalls = plan.filter((route) => route.hot).reduce((sum, route) => sum + streamCalls[route.key], 0);

  process.stdout.write(`bench: ${WAITING_USERS} users asking for one download in progress, ${WAITING_PER_SECOND}/s … `);
  const waitingLoad = summarize(
    // As the button helper asks: a client that does not ask for JSON gets a 503 while the file is made.
    [await load({ port: direct.gateway, path: `/v1/videos/${WAITING_VIDEO}/download`, headers: { accept: "application/json" } }, { users, amount: WAITING_USERS, overallRate: WAITING_PER_SECOND })],
    202,
  );
  const waitingCounts = await counters(WAITING_VIDEO);
  console.log(`${waitingCounts.api} Stream API calls`);

  stopping = true;
  stopAll();
  for (const pgid of Object.values(groups)) waitGroupGone(pgid);
  console.log("bench: servers stopped; in-workerd benchmarks (minting, D1 round trips, request cost) …");
  const { mint, d1, cost } = await vitestBench();

  const results = {
    generatedAt: new Date().toISOString(),
    command: "npm run bench",
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown", node: process.version },
    settings: {
      connections: CONNECTIONS,
      seconds: SECONDS,
      rounds: ROUNDS,
      warmupSecondsPerRound: WARMUP_SECONDS,
      users: USERS,
      path: "straight to each user Worker's port (wrangler dev)",
    },
    routes,
    mint,
    streamApi: {
      hotPathCalls,
      readyPer1000Downloads: (routes.download.streamApiCalls / routes.download.requests) * 1000,
      waiting: {
        users: waitingLoad.requests,
        statuses: waitingLoad.statuses,
        seconds: waitingLoad.seconds,
        pollIntervalSeconds: POLL_INTERVAL_SECONDS,
        byOperation: waitingCounts.byOperation,
        polls: waitingCounts.byOperation["downloads.get"] ?? 0,
        allowedPolls: Math.ceil(waitingLoad.seconds / POLL_INTERVAL_SECONDS),
      },
    },
    d1,
    cost,
    bundle,
  };
  results.attribution = attribution(results);
  results.bars = judge(results);
  const round = (_key, value) => (typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value);
  writeFileSync("bench/results.json", `${JSON.stringify(results, round, 2)}\n`);
  writeFileSync("bench/chart.svg", chart(results));
  console.log(`\n${table(results)}\n\nWrote bench/results.json and bench/chart.svg in ${((Date.now() - startedAt) / 1000).toFixed(0)} s.`);
  if ([...Object.values(routes), waitingLoad].some((r) => r.unexpected > 0 || r.errors > 0)) {
    console.error("bench: some requests failed or had an unexpected status (see results.json); the numbers above are suspect.");
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error("bench failed:", error instanceof Error ? error.message : error);
  process.exitCode = 1;
}).finally(() => {
  stopping = true;
  stopAll();
});
