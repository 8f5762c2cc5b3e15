// The logic of `npm run doctor`: why do signed download links answer 401/403? It checks, for the
// local pair `npm run dev` runs or for the production configuration, what a download needs: the
// settings, the signing key (imports; Stream lists it; Stream accepts what it signs), the API
// token, the webhook subscription, videos whose allowedOrigins might refuse downloads, and
// optionally one video and a deployed gateway. It reads from Stream, never writes, prints setting
// names and key ids but never a secret, and names the fix for each failed check; a warning fails
// nothing. Exit 0 when every check passes, 1 otherwise, 2 for a usage error.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { importJWK, jwtVerify } from "jose";
import { parse as parseToml } from "smol-toml";
import { ensureDevVars, readGatewayVars, targetVars } from "./dev-vars.mjs";
import { DEV_SERVERS_FILE, recordedDevServers } from "./servers.mjs";
import { notificationUrlOf } from "./stream-setup.mjs";
import { DOCUMENTED_EVENTS, INFERRED_EVENTS, eventsQueueOf, findEventSubscription } from "./event-subscription.mjs";

export const HELP = `npm run doctor -- [options]

Checks what signed Stream downloads need and prints the fix for whatever fails: the gateway's
settings, the signing key (STREAM_KEY_ID, STREAM_KEY_JWK), the API token, the webhook, and
optionally one video end to end; warns (!) about videos whose allowedOrigins might refuse their
downloads. Reads from Stream; never writes.

Where the settings come from
  (default)             the local pair of \`npm run dev\`: wrangler.toml [vars], .dev.vars, and the
                        emulator and gateway on localhost at $EMULATOR_PORT and $PORT when set,
                        else where the running \`npm run dev\` recorded them
                        (${DEV_SERVERS_FILE}), else at 8788 and 8787
  --remote              the production configuration: wrangler.toml [vars] only; give the
                        secrets as environment variables (wrangler cannot read them back)
  --env NAME            with --remote: wrangler.toml's [env.NAME] instead of the top level
  Environment variables named like a setting override it in both modes, e.g.
  STREAM_KEY_ID=… npm run doctor

What else to check
  --video UID           that video: ready, requires signed URLs, its downloads, and the first
                        byte of its MP4 with a freshly minted token (206; never a full download)
  --gateway-url URL     the gateway's public origin, to compare the webhook subscription with
                        (default: --url, or the local gateway)
  --url URL             a deployed gateway: GET /healthz and, with --app-token and --video, one
                        end-to-end download request (it takes one download from the quota)
  --app-token JWT       an app token for --url (default: $DOCTOR_APP_TOKEN)

  -h, --help            this text

Exit codes: 0 every check passed; 1 something failed (each failure says how to fix it); 2 usage.
`;

/** How each check's result is printed; only "fail" changes the exit code. */
const MARKS = { pass: "✓", fail: "✗", skip: "–", warn: "!" };
/** Videos a warning names by UID before it only counts the rest. */
const NAMED_VIDEOS = 5;
const SECRETS = ["STREAM_ACCOUNT_ID", "STREAM_API_TOKEN", "STREAM_KEY_ID", "STREAM_KEY_JWK", "AUTH_HS256_SECRET", "ADMIN_API_TOKEN", "STREAM_WEBHOOK_SECRET"];
const TIMEOUT_MS = 10_000;
const UID = /^[0-9a-f]{32}$/;

export class UsageError extends Error {}

/** The command line as options; a UsageError for anything else. */
export function parseOptions(argv, env, cwd = ".") {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        remote: { type: "boolean" },
        env: { type: "string" },
        video: { type: "string" },
        "gateway-url": { type: "string" },
        url: { type: "string" },
        "app-token": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (values.video !== undefined && !UID.test(values.video)) throw new UsageError("--video must be a video UID: 32 lowercase hex characters");
  if (values.env !== undefined && !values.remote) throw new UsageError("--env goes with --remote");
  for (const flag of ["url", "gateway-url"]) {
    if (values[flag] !== undefined && !/^https?:\/\/[^/]+\/?$/.test(values[flag])) throw new UsageError(`--${flag} must be an origin like https://downloads.example.com`);
  }
  return {
    help: values.help === true,
    remote: values.remote === true,
    envName: values.env ?? null,
    video: values.video ?? null,
    url: values.url?.replace(/\/$/, "") ?? null,
    gatewayUrl: values["gateway-url"]?.replace(/\/$/, "") ?? null,
    appToken: values["app-token"] ?? env.DOCTOR_APP_TOKEN ?? null,
    local: localPair(env, cwd),
  };
}

/**
 * Where `npm run dev` runs: PORT and EMULATOR_PORT when given, else what the running
 * `npm run dev` recorded, else its default ports; `source` says which.
 */
function localPair(env, cwd) {
  const recorded = recordedDevServers(cwd);
  return {
    gateway: env.PORT ? `http://localhost:${env.PORT}` : (recorded?.gateway ?? "http://localhost:8787"),
    emulator: env.EMULATOR_PORT ? `http://localhost:${env.EMULATOR_PORT}` : (recorded?.emulator ?? "http://localhost:8788"),
    source: env.PORT || env.EMULATOR_PORT ? "given" : recorded !== null ? "recorded" : "default",
  };
}

/** The fix when the local pair does not answer, by where doctor looked for it. */
function startLocalPair(options) {
  return {
    given: "start `npm run dev` with the PORT and EMULATOR_PORT given here, or leave them out: doctor finds a running `npm run dev` by itself",
    recorded: `the \`npm run dev\` recorded in ${DEV_SERVERS_FILE} runs but does not answer: see its output`,
    default: "start the local pair with `npm run dev` (on any PORT and EMULATOR_PORT: doctor finds where it runs)",
  }[options.local.source];
}

/**
 * The settings the gateway would run with: locally what `npm run dev` gives it (wrangler.toml's
 * [vars], .dev.vars, the emulator's addresses); remotely wrangler.toml's [vars] (or an
 * environment's). Environment variables named like a setting win in both modes.
 */
export function gatewaySettings(options, env, cwd = ".") {
  const toml = parseToml(readFileSync(`${cwd}/wrangler.toml`, "utf8"));
  let vars;
  if (options.remote) {
    vars = targetVars(toml, options.envName);
    if (vars === null) throw new UsageError(`wrangler.toml has no [env.${options.envName}]`);
  } else {
    const { emulator } = options.local;
    // As `npm run dev` and `npm run token` do: the dev-only fixtures when there is no .dev.vars yet.
    ensureDevVars(`${cwd}/.dev.vars`);
    vars = {
      ...readGatewayVars({ config: `${cwd}/wrangler.toml`, devVars: `${cwd}/.dev.vars` }),
      STREAM_API_BASE: `${emulator}/client/v4`,
      STREAM_DELIVERY_BASE: emulator,
    };
  }
  const names = new Set([...Object.keys(toml.vars ?? {}), ...SECRETS]);
  for (const name of names) if (env[name] !== undefined) vars[name] = env[name];
  return vars;
}

/**
 * The gateway's own code for what doctor checks (settings, readiness, minting), bundled for Node,
 * so that doctor judges exactly as the gateway does.
 */
async function gatewayModule() {
  const result = await build({
    stdin: {
      contents: `export { parseConfig } from "./src/config/config";
        export { DELIVERIES } from "./src/deliver/modes";
        export { Downloads, readyStreamable } from "./src/stream/client";
        export { createSigner, mintDownloadToken } from "./src/mint/token";`,
      resolveDir: new URL("../..", import.meta.url).pathname,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString("base64")}`);
}

/** One request; `bytes: false` drops the body unread (a file that ignored Range must not be downloaded). */
async function call(url, init = {}, { bytes = true } = {}) {
  try {
    const res = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!bytes || init.method === "HEAD") {
      await res.body?.cancel();
      return { status: res.status, headers: res.headers, body: null };
    }
    const text = await res.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the status says enough
    }
    return { status: res.status, headers: res.headers, body };
  } catch (error) {
    return { status: 0, headers: new Headers(), body: null, error: error?.cause?.code ?? error?.name ?? String(error) };
  }
}

const codes = (body) => (Array.isArray(body?.errors) ? body.errors.map((e) => `${e.code} ${e.message}`).join("; ") : "");

/**
 * Runs the checks; `report(check)` is called for each as it finishes, `check.result` one of
 * MARKS' keys. Returns whether none failed.
 */
export async function diagnose(options, settings, report) {
  let failed = false;
  const pass = (name, detail) => report({ name, result: "pass", detail });
  const fail = (name, detail, fix) => {
    failed = true;
    report({ name, result: "fail", detail, fix });
  };
  const skip = (name, detail) => report({ name, result: "skip", detail });
  const warn = (name, detail, fix) => report({ name, result: "warn", detail, fix });
  const where = options.remote ? "wrangler.toml [vars] or `wrangler secret put NAME` (and as an environment variable for doctor)" : ".dev.vars (or wrangler.toml [vars])";

  // 1. Settings, validated by the gateway's own code.
  const gatewayCode = await gatewayModule();
  const { parseConfig, DELIVERIES } = gatewayCode;
  let config;
  try {
    config = parseConfig(settings, DELIVERIES);
    pass("settings", "every required setting is present and valid");
  } catch (error) {
    const setting = error?.options?.extensions?.setting;
    if (!setting) throw error;
    fail("settings", error.detail ?? String(error), `set ${setting} in ${where}; docs/configuration.md says what it must be`);
    return false;
  }
  const stream = config.stream;
  const apiBase = `${stream.api.apiBase}/accounts/${stream.accountId}/stream`;
  const api = (method, path) => call(`${apiBase}${path}`, { method, headers: { authorization: `Bearer ${stream.api.apiToken}` } });

  // 2. The signing key imports and signs what its own public part verifies.
  const local = !options.remote;
  const keyFix = local
    ? "delete .dev.vars and restart `npm run dev`: it writes the dev-only key the emulator knows"
    : "`npm run setup -- --rotate` creates a new signing key and stores its id and JWK together (the old key stays valid)";
  const signer = gatewayCode.createSigner(stream);
  try {
    const { token } = await gatewayCode.mintDownloadToken(signer, { video: "0".repeat(32), ttlSeconds: 60 });
    const { n, e } = stream.keyJwk;
    await jwtVerify(token, await importJWK({ kty: "RSA", n, e }, "RS256"));
    pass("signing key", "STREAM_KEY_JWK imports and its private and public parts agree");
  } catch {
    fail("signing key", "STREAM_KEY_JWK is not a usable RSA private key", `store the \`jwk\` Stream returned with the key, base64 as it came: ${keyFix}`);
    return false;
  }

  // 3. The API token reaches Stream and reads videos; Stream lists the key.
  const listed = await api("GET", "/keys");
  const refusal = (answer, what) => {
    if (answer.status === 0) {
      fail("Stream API", `Stream's API did not answer at ${stream.api.apiBase} (${answer.error})`, options.remote ? "check STREAM_API_BASE (normally https://api.cloudflare.com/client/v4) and the network" : startLocalPair(options));
    } else if (answer.status === 429) {
      const wait = answer.headers.get("retry-after") ?? "300";
      fail(
        "Stream API",
        `Stream rate-limits the user who owns STREAM_API_TOKEN (429): every call is locked out for ${wait} s`,
        `wait ${wait} s; Stream's limit (1,200 calls per 5 minutes) is per user, counted across the dashboard, API keys and every token of that user, and the gateway keeps its own calls under STREAM_API_BUDGET, so look for the others (your app, scripts, the dashboard)`,
      );
    } else if (answer.status === 401 || answer.status === 403 || answer.status === 400) {
      fail(
        "API token",
        `Stream refused STREAM_API_TOKEN for ${what} in account ${stream.accountId} (${answer.status}${codes(answer.body) ? `: ${codes(answer.body)}` : ""})`,
        "check STREAM_ACCOUNT_ID (the account the videos are in), then the token: it needs Stream Read and Stream Write for that account (dashboard → My Profile → API Tokens); store it as STREAM_API_TOKEN",
      );
    } else {
      fail("Stream API", `Stream answered ${answer.status} to ${what}${codes(answer.body) ? ` (${codes(answer.body)})` : ""}`, "check STREAM_ACCOUNT_ID: it must be the account the videos are in");
    }
  };
  if (listed.status !== 200 || !Array.isArray(listed.body?.result)) {
    refusal(listed, "listing the signing keys");
    return false;
  }
  // One list call: Stream answers up to 1,000 videos, newest first; the allowedOrigins check and
  // the sampled video read it.
  const videos = await api("GET", "");
  if (videos.status !== 200 || !Array.isArray(videos.body?.result)) {
    refusal(videos, "reading videos");
    return false;
  }
  pass("API token", "Stream accepts STREAM_API_TOKEN for keys and videos");
  const ids = listed.body.result.map((k) => k.id);
  if (!ids.includes(stream.keyId)) {
    fail("signing key", `Stream lists no key with id ${stream.keyId} (STREAM_KEY_ID); it lists ${ids.length === 0 ? "none" : ids.join(", ")}`, `tokens signed with it answer 401: ${keyFix}, or set STREAM_KEY_ID and STREAM_KEY_JWK of a listed key`);
  } else {
    const kid = settingsJwkKid(settings);
    pass("signing key", `Stream lists ${stream.keyId}${kid && kid !== stream.keyId ? ` (the JWK's own kid ${kid} differs; tokens use the id, as they must)` : ""}`);
  }

  // 4. The webhook points at this gateway.
  const expected = options.gatewayUrl ?? options.url ?? (options.remote ? null : options.local.gateway);
  const receiver = expected === null ? null : new URL("/webhooks/stream", expected).href;
  // Setup also creates (and switches the gateway to) a new signing key: say so.
  const setupFix = (force) =>
    local
      ? "restart `npm run dev`: it subscribes the emulator's webhook to the local gateway with the secret in .dev.vars"
      : `\`npm run setup -- --gateway-url ${expected ?? "https://<your gateway>"}${force ? " --force" : ""}\` (it also creates a new signing key and switches the gateway to it; the old one stays valid)`;
  const hook = await api("GET", "/webhook");
  const subscribed = hook.status === 200 ? hook.body?.result : null;
  const notificationUrl = notificationUrlOf(subscribed);
  if (notificationUrl === null) {
    fail("webhook", "no webhook subscription", `${setupFix(false)}; without a webhook the gateway still works by polling, but PREPARE_DOWNLOADS needs one`);
  } else if (receiver === null) {
    skip("webhook", `subscribed to ${notificationUrl}; pass --gateway-url to compare it with this gateway`);
  } else if (normalised(notificationUrl) !== receiver) {
    fail("webhook", `Stream calls ${notificationUrl}, not ${receiver}`, `${setupFix(true)}; Stream allows one subscription per account, so the other receiver stops getting notifications`);
  } else if (config.webhookSecret === null || (subscribed.secret && subscribed.secret !== config.webhookSecret)) {
    fail("webhook", `Stream calls ${notificationUrl}, but STREAM_WEBHOOK_SECRET is ${config.webhookSecret === null ? "not set" : "not the subscription's secret"}`, `store the subscription's secret: ${setupFix(false)}; setup keeps a subscription that already points here, with its secret`);
  } else {
    pass("webhook", `Stream calls ${notificationUrl} with the secret the gateway holds`);
  }

  // 4b. Stream's events reach the gateway's queue (docs/design.md › Stream's events).
  await checkEvents(stream, local, eventsQueueOf(settings), { pass, warn });

  // 5. Videos whose allowedOrigins Stream might apply to their downloads.
  checkAllowedOrigins(videos.body.result, stream, { pass, warn });

  // 6. One video, end to end at Stream: the first byte with a freshly minted token.
  const sample = options.video ?? (await sampleVideo(api, videos.body.result, gatewayCode));
  if (sample === null) {
    skip("video", "no ready, signed video with a ready MP4 among the first few; pass --video UID");
  } else {
    await checkVideo(sample, { api, stream, signer, gatewayCode, keyFix, pass, fail });
  }

  // 7. A gateway: local by default, or --url.
  const gateway = options.url ?? (options.remote ? null : options.local.gateway);
  if (gateway !== null) await checkGateway(gateway, options, settings, { pass, fail, skip });
  return !failed;
}

/** Without a subscription the gateway still works, polling Stream: a warning, not a failure. */
async function checkEvents(stream, local, queueName, { pass, warn }) {
  const fix = local ? "restart `npm run dev`: it subscribes the emulator's events to the local queue" : "`npm run setup` (its token needs Queues Write), or see docs/operations.md › Setup";
  let found;
  try {
    found = await findEventSubscription({ apiBase: stream.api.apiBase, accountId: stream.accountId, apiToken: stream.api.apiToken }, queueName);
  } catch (error) {
    warn("events", `could not read the event subscriptions (${error.message}); the gateway polls Stream unless they are set up`, `${fix}; the API token needs Queues Read to check them`);
    return;
  }
  const { queue, subscription } = found;
  if (queue === null || subscription === null || subscription.enabled === false) {
    const what = queue === null ? `no queue ${queueName}` : subscription === null ? `no subscription sends Stream's events to ${queueName}` : `the subscription ${subscription.id} is disabled`;
    warn("events", `${what}: downloads in progress are polled (every POLL_INTERVAL_SECONDS) instead of learnt from Stream's events`, fix);
    return;
  }
  const missing = DOCUMENTED_EVENTS.filter((e) => !subscription.events.includes(e));
  const completion = INFERRED_EVENTS.filter((e) => subscription.events.includes(e));
  if (missing.length > 0) {
    warn("events", `subscription ${subscription.id} lacks ${missing.join(", ")}`, fix);
  } else {
    pass("events", `Stream publishes ${subscription.events.length} event types to ${queueName}${completion.length === INFERRED_EVENTS.length ? "" : " (not the finished-download ones: downloads in progress stay polled)"}`);
  }
}

function normalised(url) {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

function settingsJwkKid(settings) {
  try {
    return JSON.parse(Buffer.from(settings.STREAM_KEY_JWK, "base64").toString("utf8")).kid ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether Stream applies a video's allowedOrigins to its MP4 and M4A is not documented
 * (docs/stream-behaviour.md §3): if it does, such a video's downloads may be refused to browsers.
 */
function checkAllowedOrigins(videos, stream, { pass, warn }) {
  const restricted = videos.filter((v) => typeof v?.uid === "string" && Array.isArray(v.allowedOrigins) && v.allowedOrigins.length > 0);
  if (restricted.length === 0) {
    pass("allowed origins", `none of the ${videos.length} videos listed restricts allowedOrigins`);
    return;
  }
  const named = restricted.slice(0, NAMED_VIDEOS).map((v) => `${v.uid} (${v.allowedOrigins.join(", ")})`);
  const more = restricted.length > NAMED_VIDEOS ? ` and ${restricted.length - NAMED_VIDEOS} more` : "";
  warn(
    "allowed origins",
    `${restricted.length} of the ${videos.length} videos listed restrict allowedOrigins: ${named.join(", ")}${more}. Whether Stream applies allowedOrigins to /downloads/*.mp4 and *.m4a is undocumented; if it does, their downloads may be refused to browsers whose Origin or Referer is not listed (the gateway's redirects send no Referer)`,
    `if their downloads fail, clear it: curl -X POST -H "Authorization: Bearer $STREAM_API_TOKEN" -H "Content-Type: application/json" -d '{"allowedOrigins":[]}' ${stream.api.apiBase}/accounts/${stream.accountId}/stream/<uid>; the emulator can enforce it (quirk allowedOriginsOnDownloads, emulator/README.md › Assumptions) to try your app against that reading`,
  );
}

/** Without --video: a ready, signed video of the first page whose MP4 is ready (a few reads at most). */
async function sampleVideo(api, videos, gatewayCode) {
  const candidates = videos.filter(
    (v) => typeof v?.uid === "string" && gatewayCode.readyStreamable({ state: v.status?.state, readyToStream: v.readyToStream }) && v.requireSignedURLs === true,
  );
  for (const video of candidates.slice(0, 3)) {
    const downloads = await api("GET", `/${video.uid}/downloads`);
    if (readDownloads(gatewayCode, downloads.body?.result).default?.status === "ready") return video.uid;
  }
  return null;
}

/** A downloads answer read as the gateway reads it (entries may lack status or percentComplete); {} if unreadable. */
function readDownloads(gatewayCode, result) {
  return gatewayCode.Downloads.safeParse(result).data ?? {};
}

async function checkVideo(uid, { api, stream, signer, gatewayCode, keyFix, pass, fail }) {
  const name = `video ${uid}`;
  const details = await api("GET", `/${uid}`);
  if (details.status === 404) {
    fail(name, `Stream has no video ${uid} in this account`, "check the UID and STREAM_ACCOUNT_ID");
    return;
  }
  if (details.status !== 200 || typeof details.body?.result !== "object" || details.body.result === null) {
    fail(name, `Stream answered ${details.status} for the video's details${codes(details.body) ? ` (${codes(details.body)})` : ""}`, "run doctor again in a minute; if it persists, see Cloudflare's status page");
    return;
  }
  const video = details.body.result;
  const state = video.status?.state ?? "unknown";
  if (!gatewayCode.readyStreamable({ state: video.status?.state, readyToStream: video.readyToStream })) {
    const why = state === "ready" ? "the video is ready but not readyToStream (both must hold for it to play)" : `the video is ${state}, not ready to stream`;
    fail(name, why, state === "error" ? "it failed to process: upload it again" : "wait for Stream to finish processing it");
    return;
  }
  if (video.requireSignedURLs !== true) {
    fail(name, "the video does not require signed URLs: its MP4 is public, and the gateway refuses it (409 video-not-protected)", `curl -X POST -H "Authorization: Bearer $STREAM_API_TOKEN" -d '{"requireSignedURLs":true}' ${stream.api.apiBase}/accounts/${stream.accountId}/stream/${uid}`);
    return;
  }
  const downloads = readDownloads(gatewayCode, (await api("GET", `/${uid}/downloads`)).body?.result);
  const def = downloads.default;
  const described = ["default", "audio"].map((t) => `${t}: ${downloads[t]?.status ?? "none"}`).join(", ");
  if (!def) {
    fail(name, `ready and signed, but Stream has no MP4 download of it (${described})`, `create it: a first request through the gateway does, or \`curl -X POST -H "Authorization: Bearer $STREAM_API_TOKEN" -H "Content-Type: application/json" -d '{}' ${stream.api.apiBase}/accounts/${stream.accountId}/stream/${uid}/downloads\`; PREPARE_DOWNLOADS=default makes one for every new video`);
    return;
  }
  if (def.status !== "ready") {
    fail(name, `its MP4 download is ${def.status} (${described})`, def.status === "error" ? "Stream could not generate it: delete the download and create it again" : "wait until it is ready; the gateway answers 202 meanwhile");
    return;
  }
  const { token } = await gatewayCode.mintDownloadToken(signer, { video: uid, ttlSeconds: 300 });
  const first = await call(`${stream.deliveryBase}/${token}/downloads/default.mp4`, { headers: { range: "bytes=0-0" } }, { bytes: false });
  if (first.status === 206 || first.status === 200) {
    pass(name, `ready, signed, ${described}; Stream served its first byte to a freshly minted token (${first.status})`);
  } else if (first.status === 401 || first.status === 403) {
    fail(name, `Stream refused a token signed with STREAM_KEY_JWK under kid ${stream.keyId} (${first.status})`, `STREAM_KEY_JWK is not the private key of STREAM_KEY_ID (or that key was deleted): ${keyFix}`);
  } else if (first.status === 0) {
    fail(name, `Stream's delivery host did not answer at ${stream.deliveryBase} (${first.error})`, "check STREAM_DELIVERY_BASE: https://customer-<code>.cloudflarestream.com, from any video's URLs in the dashboard");
  } else {
    fail(name, `Stream answered ${first.status} for the first byte of the MP4`, `check STREAM_DELIVERY_BASE (${stream.deliveryBase}) and that the download is ready`);
  }
}

async function checkGateway(gateway, options, settings, { pass, fail, skip }) {
  const health = await call(`${gateway}/healthz`);
  if (health.status !== 200 || health.body?.ok !== true) {
    fail("gateway", `${gateway}/healthz answered ${health.status === 0 ? `nothing (${health.error})` : health.status}`, options.url ? "check the URL and `npx wrangler deployments list`" : startLocalPair(options));
    return;
  }
  await checkAuditConsumer(gateway, settings, { pass, fail, skip });
  if (options.appToken === null || options.video === null) {
    pass("gateway", `${gateway}/healthz answers`);
    if (options.url) skip("gateway download", "pass --app-token and --video for one end-to-end download request");
    return;
  }
  const granted = await call(`${gateway}/v1/videos/${options.video}/download`, { headers: { authorization: `Bearer ${options.appToken}` } });
  const location = granted.headers.get("location");
  if (granted.body?.type === "download-preparing") {
    fail("gateway download", "the gateway is preparing the download (503 download-preparing): Stream is still making the file", "run doctor again once it is ready (the answer's Retry-After says when)");
    return;
  }
  if ((granted.status !== 302 && granted.status !== 303) || location === null) {
    const type = granted.body?.type ? ` ${granted.body.type}: ${granted.body.detail}` : "";
    fail("gateway download", `the gateway answered ${granted.status}${type}`, "the problem's type names the cause (docs/http-api.md › Errors); 401 means the app token, 403 the entitlement");
    return;
  }
  const file = await call(new URL(location, gateway).href, { headers: { range: "bytes=0-0" } }, { bytes: false });
  if (file.status === 206 || file.status === 200) pass("gateway download", `${gateway} granted the download and its URL served the first byte (${file.status})`);
  else fail("gateway download", `the download URL the gateway handed out answered ${file.status}`, "run doctor with --remote and the same settings to see which part Stream refuses");
}

/** Whether the gateway's Worker consumes its audit queue, as the admin API's freshness says (docs/operations.md › Wiring). */
async function checkAuditConsumer(gateway, settings, { pass, fail, skip }) {
  const token = (settings.ADMIN_API_TOKEN ?? "").split(",")[0]?.trim();
  if (!token) {
    skip("audit consumer", "no ADMIN_API_TOKEN to ask the admin API with");
    return;
  }
  const audit = await call(`${gateway}/v1/admin/audit?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  const consumer = audit.body?.freshness?.consumer;
  if (audit.status !== 200 || consumer === undefined) {
    fail("audit consumer", `GET /v1/admin/audit answered ${audit.status}`, "check ADMIN_API_TOKEN against the gateway's");
  } else if (consumer === "misconfigured") {
    fail(
      "audit consumer",
      `audit events sent since ${audit.body.freshness.pendingSince} are still not written (last batch: ${audit.body.freshness.lastWrittenAt ?? "never"})`,
      "the Worker must export the gateway's queue handler: `export default downloads.worker(app)` (docs/operations.md › Wiring)",
    );
  } else {
    pass("audit consumer", consumer === "idle" ? "no audit event sent yet" : `the audit queue is consumed (last batch ${audit.body.freshness.lastWrittenAt})`);
  }
}

/**
 * The CLI: prints each check and returns the exit code.
 * @param {string[]} argv
 * @param {{ env?: Record<string, string | undefined>, cwd?: string, out?: { write(text: string): unknown } }} [io]
 */
export async function runDoctor(argv, { env = process.env, cwd = ".", out = process.stdout } = {}) {
  let options;
  try {
    options = parseOptions(argv, env, cwd);
    if (options.help) {
      out.write(HELP);
      return 0;
    }
    const settings = gatewaySettings(options, env, cwd);
    out.write(`doctor: ${options.remote ? `production configuration${options.envName ? ` [env.${options.envName}]` : ""}` : "the local pair of `npm run dev`"}\n`);
    let warned = false;
    const ok = await diagnose(options, settings, (check) => {
      warned ||= check.result === "warn";
      out.write(`${MARKS[check.result]} ${check.name}: ${check.detail}\n`);
      if (check.fix) out.write(`    fix: ${check.fix}\n`);
    });
    out.write(!ok ? "Some checks failed: see the fixes above.\n" : warned ? "All checks passed; see the warning above.\n" : "All checks passed.\n");
    return ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      out.write(`${error.message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}
