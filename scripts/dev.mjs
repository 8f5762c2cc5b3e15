// `npm run dev`: the Stream emulator and the gateway on localhost, D1 migrated, `.dev.vars`
// created from dev fixtures when absent. Ctrl-C stops both servers.
import { execFileSync } from "node:child_process";
import { buildClient } from "../client/build.mjs";
import { devAuth, devToken } from "./dev-token.mjs";
import { DEV_EVENTS_SECRET, ensureDevVars, readDevVars } from "./lib/dev-vars.mjs";
import { OFFLINE_ENV, recordDevServers, startWrangler, stopOnExit, waitFor } from "./lib/servers.mjs";
import { ensureEventSubscription } from "./lib/event-subscription.mjs";

const gatewayPort = Number(process.env.PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const emulator = `http://localhost:${emulatorPort}`;
const gateway = `http://localhost:${gatewayPort}`;

if (ensureDevVars()) console.log("Created .dev.vars from the dev-only fixtures.");
// HS256 dev tokens (signed here) or your identity provider's (AUTH_JWKS_URL); never both, which
// the gateway would refuse on every request.
const auth = devAuth();
if (auth.problem) {
  console.error(`Not starting: ${auth.problem}`);
  process.exit(1);
}
// public/'s helper and demo script, rebuilt when client/ changes (wrangler dev serves the new files).
await buildClient({ watch: true });
// The demo's sign-in sets the session cookie; a name of your own in .dev.vars wins.
const cookieName = readDevVars().AUTH_COOKIE_NAME || "sdg_session";
migrateLocalD1();

stopOnExit();
const common = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
const servers = [
  startWrangler("emulator", [
    "-c", "emulator/wrangler.toml", "--port", String(emulatorPort), "--inspector-port", String(emulatorPort + 1000),
    "--var", `DELIVERY_BASE:${emulator}`, ...common,
  ]),
  startWrangler("gateway", [
    // The development entry: the deployed Worker plus the demo (src/dev.ts).
    "src/dev.ts", "-c", "wrangler.toml", "--port", String(gatewayPort), "--inspector-port", String(gatewayPort + 1000),
    "--var", `STREAM_API_BASE:${emulator}/client/v4`, "--var", `STREAM_DELIVERY_BASE:${emulator}`,
    "--var", "PREPARE_DOWNLOADS:default,audio", "--var", "DEMO_ENABLED:true", "--var", `AUTH_COOKIE_NAME:${cookieName}`,
    // The gateway's events go to the demo's own receiver, which the page shows.
    "--var", `EVENTS_URL:http://127.0.0.1:${gatewayPort}/demo/events`, "--var", `EVENTS_SECRET:${DEV_EVENTS_SECRET}`,
    ...common,
  ]),
];
for (const server of servers) {
  // "close", not "exit": by then its last lines, usually the reason, have been read.
  server.on("close", (code) => {
    console.error(`${server.recentOutput()}\nA server exited (${code ?? "signal"}); stopping.`);
    process.exit(1);
  });
}
try {
  await Promise.all([waitFor(`${emulator}/__emulator/faults`), waitFor(`${gateway}/healthz`)]);
} catch (error) {
  // A server that is up but never answers (a build error, a port taken) says why in its output.
  for (const server of servers) console.error(server.recentOutput());
  console.error(`${error instanceof Error ? error.message : error}; stopping.`);
  process.exit(1);
}
// `npm run doctor` finds the pair here, on whatever ports it was given.
recordDevServers({ gateway, emulator });
// Stream allows one webhook per account and picks its secret; the emulator's control API lets
// the local account call this gateway with the secret .dev.vars holds.
const webhookSecret = readDevVars().STREAM_WEBHOOK_SECRET;
if (webhookSecret) {
  const res = await fetch(`${emulator}/__emulator/webhook`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ notificationUrl: `${gateway}/webhooks/stream`, secret: webhookSecret }),
  });
  if (!res.ok) console.error(`Could not subscribe the emulator's webhook: ${res.status} ${await res.text()}`);
} else {
  console.log("No STREAM_WEBHOOK_SECRET in .dev.vars: the emulator's webhook is not subscribed.");
}
// Stream's events reach the gateway through a local queue, as in production: the emulator's
// producer binding and the gateway's consumer meet through wrangler's dev registry.
const { STREAM_ACCOUNT_ID: accountId, STREAM_API_TOKEN: apiToken } = readDevVars();
try {
  await ensureEventSubscription({ apiBase: `${emulator}/client/v4`, accountId, apiToken }, { say: () => {}, warn: (line) => console.error(line) });
} catch (error) {
  console.error(`Could not subscribe the emulator's events (the gateway polls instead): ${error instanceof Error ? error.message : error}`);
}
const keynote = `${gateway}/v1/videos/c0ffee00000000000000000000000001/download`;
// With a JWKS there is no token to print: the identity provider issues them, and the demo's
// sign-in (HS256, like `npm run token`) answers 500 misconfigured.
const tryIt = auth.jwksUrl
  ? [
      "  Your identity provider issues the app tokens: the gateway verifies them with the JWKS at",
      `  ${auth.jwksUrl} (AUTH_JWKS_URL). Download a demo video end to end with one`,
      "  (its videos claim, or a D1 grant, must cover the video):",
      `    curl -fL --retry 30 -o keynote.mp4 -H "Authorization: Bearer <a token from your identity provider>" \\`,
      `      ${keynote}`,
      ...(isEmulatorJwks(auth.jwksUrl)
        ? [
            "  That URL is the emulator's stand-in for an identity provider: PUT your public keys there,",
            `    curl -X PUT -H "content-type: application/json" -d @jwks.json ${emulator}/__emulator/jwks`,
          ]
        : []),
      "  (npm run token signs HS256 dev tokens, which a gateway with AUTH_JWKS_URL does not accept.)",
    ]
  : [
      "  Download a demo video end to end (a dev user token for all videos, valid 24 h):",
      `    curl -fL --retry 30 -o keynote.mp4 -H "Authorization: Bearer ${await devToken("dev-user", "*")}" \\`,
      `      ${keynote}`,
      "  More tokens: npm run token -- <user> [uid,…|*]",
    ];
const demo = auth.jwksUrl ? "its sign-in needs AUTH_HS256_SECRET, so not with AUTH_JWKS_URL" : "sign in as Alice or Bob, download, share links";
console.log(`
  Open ${gateway}/demo/   (${demo})

  Behind it:
    gateway          ${gateway}   (API; ${gateway}/openapi.json)
    Stream emulator  ${emulator}   (API ${emulator}/client/v4, control ${emulator}/__emulator)

${tryIt.join("\n")}

  Press Ctrl-C to stop both. Requests and the Workers' logs follow.
`);
// From here on, the servers' own lines: each request, and what the Workers log.
for (const server of servers) server.show();

/**
 * Applies migrations/ to the local D1 with one line of report: wrangler's own (a table per
 * migration) is shown only when it fails.
 */
function migrateLocalD1() {
  let report;
  try {
    report = execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], { env: OFFLINE_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    console.error(`${error.stdout ?? ""}${error.stderr ?? ""}\nCould not migrate the local D1 database; not starting.`);
    process.exit(1);
  }
  const applied = /About to apply (\d+) migration/.exec(report)?.[1];
  console.log(applied ? `Local D1: applied ${applied} migration(s) from migrations/.` : "Local D1: up to date.");
}

/** Whether AUTH_JWKS_URL points at this emulator's JWKS stand-in (emulator/README.md › Control API). */
function isEmulatorJwks(jwksUrl) {
  try {
    const url = new URL(jwksUrl);
    return ["localhost", "127.0.0.1"].includes(url.hostname) && Number(url.port) === emulatorPort && url.pathname === "/__emulator/jwks";
  } catch {
    return false;
  }
}
