// `npm run dev`: the Stream emulator and the gateway on localhost, D1 migrated, `.dev.vars`
// created from dev fixtures when absent. Ctrl-C stops both servers.
import { execFileSync } from "node:child_process";
import { buildClient } from "../client/build.mjs";
import { devToken } from "./dev-token.mjs";
import { ensureDevVars, readDevVars } from "./lib/dev-vars.mjs";
import { OFFLINE_ENV, startWrangler, stopOnExit, waitFor } from "./lib/servers.mjs";

const gatewayPort = Number(process.env.PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const emulator = `http://localhost:${emulatorPort}`;
const gateway = `http://localhost:${gatewayPort}`;

if (ensureDevVars()) console.log("Created .dev.vars from the dev-only fixtures.");
// public/'s helper and demo script, rebuilt when client/ changes (wrangler dev serves the new files).
await buildClient({ watch: true });
// The demo's sign-in sets the session cookie; a name of your own in .dev.vars wins.
const cookieName = readDevVars().AUTH_COOKIE_NAME || "sdg_session";
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], { env: OFFLINE_ENV, stdio: "inherit" });

stopOnExit();
const common = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
const servers = [
  startWrangler("emulator", [
    "-c", "emulator/wrangler.toml", "--port", String(emulatorPort), "--inspector-port", String(emulatorPort + 1000),
    "--var", `DELIVERY_BASE:${emulator}`, ...common,
  ]),
  startWrangler("gateway", [
    "-c", "wrangler.toml", "--port", String(gatewayPort), "--inspector-port", String(gatewayPort + 1000),
    "--var", `STREAM_API_BASE:${emulator}/client/v4`, "--var", `STREAM_DELIVERY_BASE:${emulator}`,
    "--var", "PREPARE_DOWNLOADS:default,audio", "--var", "DEMO_ENABLED:true", "--var", `AUTH_COOKIE_NAME:${cookieName}`,
    ...common,
  ]),
];
for (const server of servers) {
  server.on("exit", (code) => {
    console.error(`A server exited (${code ?? "signal"}); stopping.`);
    process.exit(1);
  });
}
await Promise.all([waitFor(`${emulator}/__emulator/faults`), waitFor(`${gateway}/healthz`)]);
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
const token = await devToken("dev-user", "*");
console.log(`
  Open ${gateway}/demo/   (sign in as Alice or Bob, download, share links)

  Behind it:
    gateway          ${gateway}   (API; ${gateway}/openapi.json)
    Stream emulator  ${emulator}   (API ${emulator}/client/v4, control ${emulator}/__emulator)

  Download a demo video end to end (a dev user token for all videos, valid 24 h):
    curl -L -o keynote.mp4 -H "Authorization: Bearer ${token}" \\
      ${gateway}/v1/videos/c0ffee00000000000000000000000001/download
  More tokens: npm run token -- <user> [uid,…|*]

  Press Ctrl-C to stop both.
`);
