// The logic of `npm run setup` (docs/configuration.md): a signing key and the webhook subscription through
// Stream's API, their secrets stored for the gateway (wrangler secrets, or .dev.vars locally).
// It never prints a secret: key ids and URLs yes, JWKs, tokens and webhook secrets no.
import { spawn } from "node:child_process";
import { accountApi, SetupError, shaped, StreamApiError } from "./cloudflare-api.mjs";
import { EVENTS_QUEUE, ensureEventSubscription, eventsQueueOf } from "./event-subscription.mjs";
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parse as parseToml } from "smol-toml";
import { readDevVars, readGatewayVars, targetVars } from "./dev-vars.mjs";

export const DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4";
const WEBHOOK_PATH = "/webhooks/stream";

export const HELP = `npm run setup -- [options]

Creates a Stream signing key and subscribes Stream's webhook to the gateway, then stores
STREAM_ACCOUNT_ID, STREAM_API_TOKEN, STREAM_KEY_ID, STREAM_KEY_JWK and STREAM_WEBHOOK_SECRET
for the gateway: with one \`wrangler secret bulk\` call (values on stdin), or in .dev.vars (--local).

Account
  --account ID          Cloudflare account id (default: $CLOUDFLARE_ACCOUNT_ID)
  --api-token TOKEN     API token with Stream Write (default: $CLOUDFLARE_API_TOKEN; prefer the
                        variable: flags end up in shell history and process lists)
  --api-base URL        Stream API base (default: ${DEFAULT_API_BASE});
                        the local emulator: http://localhost:8788/client/v4

Webhook (Stream allows one subscription per account)
  --gateway-url URL     the gateway's public origin: subscribes URL${WEBHOOK_PATH}
  --webhook-url URL     the full notification URL instead
  --no-webhook          subscribe nothing (a first setup needs one of these three)
  --force               replace a subscription that points elsewhere (its receiver stops getting
                        notifications); without it setup refuses and changes nothing.
                        A subscription already pointing at the URL is kept, with its secret.

Events (Stream's event subscriptions, so downloads are not polled: docs/stream-behaviour.md)
  --no-events           leave them off. By default setup makes sure the queue
                        ${EVENTS_QUEUE} exists and Stream publishes its video and download
                        events to it (the token then also needs Queues Write).

Keys
  --rotate              create a new key and switch the gateway to it; the old key stays valid
                        (webhook flags optional)
  --delete-old          with --rotate: then delete the old key. Deleting a key REVOKES EVERY
                        TOKEN IT SIGNED: downloads handed out before the rotation stop at once.
                        Safer: rotate, wait TOKEN_TTL_SECONDS, then --delete-key.
  --old-key ID          with --rotate: the key being replaced (default with --local: the
                        STREAM_KEY_ID in .dev.vars; wrangler secrets cannot be read back)
  --delete-key ID       only delete signing key ID (revokes every token it signed)

Where the secrets go
  --local               update .dev.vars (mode 0600, other lines kept) instead of calling wrangler
  --dev-vars PATH       with --local: the file to update (default: .dev.vars)
  --env NAME            wrangler environment (\`wrangler secret bulk --env NAME\`)
  SETUP_WRANGLER        environment variable: the wrangler command line (default: npx wrangler)

  -h, --help            this text

Exit codes: 0 done; 1 Stream, wrangler or the account's state refused (a new key that could
not be stored is deleted again); 2 usage error (nothing was sent to Stream).
`;

/** Exit code 2: the command line is wrong; nothing was sent anywhere. */
export class UsageError extends Error {}

const KeyList = z.array(z.object({ id: z.string(), created: z.string().optional() }));
const NewKey = z.object({ id: z.string().min(1), jwk: z.string().min(1) });
/**
 * The URL a webhook subscription answer names: the docs call it `notificationUrl`, the SDK
 * declares `notification_url` as well (docs/stream-behaviour.md §4); the documented one first.
 */
export function notificationUrlOf(result) {
  const url = result?.notificationUrl ?? result?.notification_url;
  return typeof url === "string" ? url : null;
}
const Webhook = z
  .looseObject({ secret: z.string().min(1) })
  .transform((result) => ({ notificationUrl: notificationUrlOf(result), secret: result.secret }))
  .refine((webhook) => webhook.notificationUrl !== null);
const Jwk = z.object({ kty: z.literal("RSA"), d: z.string(), kid: z.string().optional() });


/** The Stream calls setup makes, with Stream's error envelope turned into a StreamApiError. */
export function streamApi(account) {
  const call = accountApi(account, "/stream");
  return {
    listKeys: async () => shaped(KeyList, await call("GET", "/keys"), "GET …/stream/keys"),
    createKey: async () => shaped(NewKey, await call("POST", "/keys"), "POST …/stream/keys"),
    deleteKey: (id) => call("DELETE", `/keys/${encodeURIComponent(id)}`),
    /** The subscription, or null. Asked only after listKeys proved token and account, so a 404 means "none". */
    async getWebhook() {
      try {
        const result = await call("GET", "/webhook");
        return Webhook.safeParse(result).data ?? null;
      } catch (error) {
        if (error instanceof StreamApiError && error.status === 404) return null;
        throw error;
      }
    },
    putWebhook: async (notificationUrl) =>
      shaped(Webhook, await call("PUT", "/webhook", { notificationUrl }), "PUT …/stream/webhook"),
  };
}

/** `…abcd`: enough to tell tokens apart, too little to use one. */
export function mask(secret) {
  return secret.length >= 16 ? `…${secret.slice(-4)}` : "…";
}

function redact(text, secrets) {
  return secrets.filter((s) => s.length >= 4).reduce((out, s) => out.split(s).join("«redacted»"), text);
}

function quoteDevVar(name, value) {
  if (/["\n\r]/.test(value)) throw new SetupError(`${name} holds a character .dev.vars cannot carry.`);
  return /^[A-Za-z0-9_+/=.:-]*$/.test(value) ? value : `"${value}"`;
}

/**
 * Sets `entries` in a .dev.vars file: each name's first line is replaced, later duplicates
 * dropped, new names appended, every other line kept. Written to a 0600 file that replaces
 * the old one, so the secrets are never readable by others, not even for a moment.
 */
export function updateDevVars(path, entries) {
  const lines = existsSync(path)
    ? readFileSync(path, "utf8").split("\n")
    : ["# Written by `npm run setup -- --local`: secrets for `wrangler dev`. Never commit (git-ignored)."];
  if (lines.at(-1) === "") lines.pop();
  const written = new Set();
  const out = [];
  for (const line of lines) {
    const name = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    if (name === undefined || !Object.hasOwn(entries, name)) out.push(line);
    else if (!written.has(name)) {
      out.push(`${name}=${quoteDevVar(name, entries[name])}`);
      written.add(name);
    }
  }
  for (const [name, value] of Object.entries(entries)) {
    if (!written.has(name)) out.push(`${name}=${quoteDevVar(name, value)}`);
  }
  const temporary = `${path}.setup-${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${out.join("\n")}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** Secrets in .dev.vars; `current` reads what is there (the key being replaced). */
export function devVarsStore(path) {
  return {
    where: path,
    current: (name) => (existsSync(path) ? readDevVars(path)[name] : undefined),
    put: async (entries) => updateDevVars(path, entries),
  };
}

/**
 * Secrets through `wrangler secret bulk`, JSON on stdin. One call, not one `secret put` per
 * name: every call deploys a new version, and a version with the new STREAM_KEY_ID but the old
 * STREAM_KEY_JWK would sign tokens that name a key they were not signed with.
 * `command` is a shell command line (SETUP_WRANGLER lets tests substitute a fake); its output
 * is shown with every secret value redacted.
 */
export function wranglerStore({ command, wranglerEnv, stdout, stderr }) {
  return {
    where: `wrangler secrets${wranglerEnv ? ` (--env ${wranglerEnv})` : ""}`,
    current: () => undefined,
    put: (entries) =>
      new Promise((resolve, reject) => {
        const args = ["secret", "bulk", ...(wranglerEnv ? ["--env", wranglerEnv] : [])];
        const child = spawn(`${command} ${args.join(" ")}`, { shell: true, stdio: ["pipe", "pipe", "pipe"] });
        const output = { out: "", err: "" };
        child.stdout.on("data", (chunk) => (output.out += chunk));
        child.stderr.on("data", (chunk) => (output.err += chunk));
        child.on("error", (error) => reject(new SetupError(`Could not run ${command}: ${error.message}`)));
        child.on("close", (code) => {
          const values = Object.values(entries);
          if (output.out) stdout.write(redact(output.out, values));
          if (output.err) stderr.write(redact(output.err, values));
          if (code === 0) resolve();
          else reject(new SetupError(`\`${command} ${args.join(" ")}\` failed (exit ${code}); no secret was stored.`));
        });
        // A command that exits without reading stdin (not found, say) must not crash setup with EPIPE.
        child.stdin.on("error", () => {});
        child.stdin.end(JSON.stringify(entries));
      }),
  };
}

function httpUrl(value, flag) {
  if (!/^https?:\/\//.test(value) || !URL.canParse(value)) throw new UsageError(`${flag} must be an http(s) URL.`);
  return value;
}

function sameUrl(a, b) {
  return URL.canParse(a) && URL.canParse(b) && new URL(a).href === new URL(b).href;
}

const OPTIONS = {
  account: { type: "string" },
  "api-token": { type: "string" },
  "api-base": { type: "string" },
  "gateway-url": { type: "string" },
  "webhook-url": { type: "string" },
  "no-webhook": { type: "boolean" },
  "no-events": { type: "boolean" },
  force: { type: "boolean" },
  rotate: { type: "boolean" },
  "delete-old": { type: "boolean" },
  "old-key": { type: "string" },
  "delete-key": { type: "string" },
  local: { type: "boolean" },
  "dev-vars": { type: "string" },
  env: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** The command line and environment as one checked plan, or a UsageError. */
export function parseSetupArgs(argv, env) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (values.help) return { help: true };
  const only = (flag, needs) => {
    if (values[flag] !== undefined && !values[needs]) throw new UsageError(`--${flag} only goes with --${needs}.`);
  };
  only("delete-old", "rotate");
  only("old-key", "rotate");
  only("dev-vars", "local");
  if (values.local && values.env !== undefined) {
    throw new UsageError("--env names a wrangler environment; with --local pick the file with --dev-vars.");
  }
  if (values.env !== undefined && !/^[A-Za-z0-9_-]+$/.test(values.env)) throw new UsageError("--env must be a plain name.");

  const accountId = values.account ?? env.CLOUDFLARE_ACCOUNT_ID;
  if (!accountId) throw new UsageError("No account id: pass --account <id> or set CLOUDFLARE_ACCOUNT_ID.");
  const apiToken = values["api-token"] ?? env.CLOUDFLARE_API_TOKEN;
  if (!apiToken) throw new UsageError("No API token: set CLOUDFLARE_API_TOKEN (or pass --api-token).");
  const apiBase = httpUrl(values["api-base"] ?? DEFAULT_API_BASE, "--api-base");

  const webhookFlags = ["gateway-url", "webhook-url", "no-webhook"].filter((f) => values[f] !== undefined);
  if (webhookFlags.length > 1) throw new UsageError(`Pick one of --${webhookFlags.join(", --")}.`);
  let notificationUrl = null;
  if (values["gateway-url"] !== undefined) {
    notificationUrl = `${httpUrl(values["gateway-url"], "--gateway-url").replace(/\/+$/, "")}${WEBHOOK_PATH}`;
  } else if (values["webhook-url"] !== undefined) {
    notificationUrl = httpUrl(values["webhook-url"], "--webhook-url");
  }

  const deleteKey = values["delete-key"];
  if (deleteKey !== undefined && (values.rotate || webhookFlags.length > 0)) {
    throw new UsageError("--delete-key only deletes a key: run it on its own.");
  }
  if (deleteKey === undefined && !values.rotate && webhookFlags.length === 0) {
    throw new UsageError(
      `Where should Stream send its webhook? Pass --gateway-url https://<your gateway> (subscribes …${WEBHOOK_PATH}), --webhook-url <url>, or --no-webhook.`,
    );
  }
  return {
    help: false,
    accountId,
    apiToken,
    apiBase,
    notificationUrl,
    force: values.force ?? false,
    rotate: values.rotate ?? false,
    deleteOld: values["delete-old"] ?? false,
    oldKey: values["old-key"],
    deleteKey,
    events: !(values["no-events"] ?? false) && deleteKey === undefined,
    local: values.local ?? false,
    devVars: values["dev-vars"] ?? ".dev.vars",
    wranglerEnv: values.env,
  };
}

/**
 * The vars of the Worker being set up (its queue names): .dev.vars locally, else its wrangler.toml
 * section's; none without a wrangler.toml. Read before anything changes: an --env that names no
 * environment of it is a usage error, not production's queue.
 */
function deploymentVars(plan) {
  if (plan.local) return readGatewayVars({ devVars: plan.devVars });
  if (!existsSync("wrangler.toml")) return {};
  let toml;
  try {
    toml = parseToml(readFileSync("wrangler.toml", "utf8"));
  } catch (error) {
    throw new UsageError(`wrangler.toml cannot be read (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); nothing changed.`);
  }
  const vars = targetVars(toml, plan.wranglerEnv);
  if (vars === null) throw new UsageError(`wrangler.toml has no [env.${plan.wranglerEnv}]; nothing changed.`);
  return vars;
}

function revocationWarning(id) {
  return `Deleted signing key ${id}: every token it signed is revoked now (downloads handed out with it stop working).`;
}

async function deleteOnly(plan, api, store, keys, say) {
  if (!keys.some((k) => k.id === plan.deleteKey)) {
    throw new SetupError(`The account has no signing key ${plan.deleteKey}; nothing changed.`);
  }
  if (store.current("STREAM_KEY_ID") === plan.deleteKey && !plan.force) {
    throw new SetupError(
      `${plan.deleteKey} is the key ${store.where} uses: deleting it breaks the gateway. Rotate first (--rotate), or pass --force.`,
    );
  }
  await api.deleteKey(plan.deleteKey);
  say(revocationWarning(plan.deleteKey));
}

/** What the webhook step will do, decided before anything changes. */
async function planWebhook(plan, api) {
  if (plan.notificationUrl === null) return null;
  const current = await api.getWebhook();
  if (current === null) return { action: "subscribe" };
  if (sameUrl(current.notificationUrl, plan.notificationUrl)) return { action: "keep", secret: current.secret };
  if (!plan.force) {
    throw new SetupError(
      [
        `The account's webhook already goes to ${current.notificationUrl}, and Stream allows one per account.`,
        `Refused to replace it: nothing changed. Pass --force to point it at ${plan.notificationUrl} (the other receiver then gets no notifications).`,
      ].join("\n"),
    );
  }
  return { action: "replace", previous: current.notificationUrl };
}

/** Why a new key cannot be used (`problem`), or what to know about it (`warning`). */
function checkKey(key) {
  let jwk;
  try {
    jwk = Jwk.safeParse(JSON.parse(Buffer.from(key.jwk, "base64").toString("utf8")));
  } catch {
    jwk = undefined;
  }
  if (!jwk?.success) return { problem: `Stream's new key ${key.id} came without a usable RSA private JWK.` };
  // Stream's docs show such a pair once (most likely a typo). Tokens name the key by its id, which
  // is what Stream knows, so the key works: a warning, and the key is kept.
  if (jwk.data.kid !== undefined && jwk.data.kid !== key.id) {
    return {
      warning: `Stream's new key ${key.id} has a JWK whose kid is ${jwk.data.kid}; the gateway signs with kid ${key.id} (STREAM_KEY_ID), the id Stream knows it by.`,
    };
  }
  return {};
}

async function createAndStore(plan, api, store, keys, previousKey, { say, warn }) {
  const previousListed = previousKey !== undefined && keys.some((k) => k.id === previousKey);
  if (plan.deleteOld && !previousListed) {
    throw new SetupError(`The account has no signing key ${previousKey} to delete; nothing changed.`);
  }
  const webhook = await planWebhook(plan, api);

  const key = await api.createKey();
  let webhookChanged = false;
  try {
    const check = checkKey(key);
    if (check.problem) throw new SetupError(check.problem);
    say(`Created signing key ${key.id}.`);
    if (check.warning) warn(check.warning);
    const secrets = {
      STREAM_ACCOUNT_ID: plan.accountId,
      STREAM_API_TOKEN: plan.apiToken,
      STREAM_KEY_ID: key.id,
      STREAM_KEY_JWK: key.jwk,
    };
    if (webhook) {
      if (webhook.action === "keep") secrets.STREAM_WEBHOOK_SECRET = webhook.secret;
      else {
        secrets.STREAM_WEBHOOK_SECRET = (await api.putWebhook(plan.notificationUrl)).secret;
        webhookChanged = true;
      }
    }
    await store.put(secrets);
    say(`Stored ${Object.keys(secrets).join(", ")} in ${store.where}.`);
  } catch (error) {
    // The new key has signed nothing yet, so deleting it is harmless and leaves no stray key.
    await api.deleteKey(key.id).then(
      () => warn(`Deleted the new key ${key.id} again.`),
      () => warn(`Could not delete the new key ${key.id}: run setup with --delete-key ${key.id}.`),
    );
    if (webhookChanged) warn("The webhook was subscribed, but its new secret is not stored: run setup again.");
    throw error;
  }

  if (webhook?.action === "keep") say(`Webhook: already subscribed to ${plan.notificationUrl}; kept it and its secret.`);
  if (webhook?.action === "subscribe") say(`Webhook: subscribed ${plan.notificationUrl}.`);
  if (webhook?.action === "replace") say(`Webhook: moved from ${webhook.previous} to ${plan.notificationUrl} (--force).`);

  if (previousListed && plan.deleteOld) {
    await api.deleteKey(previousKey);
    say(revocationWarning(previousKey));
  } else if (previousListed) {
    say(
      `The previous key ${previousKey} stays valid, so downloads already handed out keep working. Once they have expired (TOKEN_TTL_SECONDS), delete it: npm run setup -- --delete-key ${previousKey}${plan.local ? " --local" : ""} (this revokes every token it signed).`,
    );
  } else if (plan.rotate) {
    say(`The previous key is still registered; its id is not known here (pass --old-key). Delete it later with --delete-key <id>.`);
  }
  if (plan.apiBase !== DEFAULT_API_BASE) say(`Note: the gateway's STREAM_API_BASE must be ${plan.apiBase} too.`);
}

/**
 * Runs setup for `argv` and returns the exit code (0 done, 1 refused, 2 usage). `io` carries the
 * environment and the two output streams, so tests and the CLI run the same code.
 */
export async function runSetup(argv, { env, stdout, stderr }) {
  const say = (line) => stdout.write(`${line}\n`);
  const warn = (line) => stderr.write(`${line}\n`);
  try {
    const plan = parseSetupArgs(argv, env);
    if (plan.help) {
      stdout.write(HELP);
      return 0;
    }
    const api = streamApi(plan);
    const store = plan.local
      ? devVarsStore(plan.devVars)
      : wranglerStore({ command: env.SETUP_WRANGLER || "npx wrangler", wranglerEnv: plan.wranglerEnv, stdout, stderr });
    const previousKey = plan.oldKey ?? store.current("STREAM_KEY_ID");
    if (plan.deleteOld && previousKey === undefined) {
      const why = plan.local ? `${plan.devVars} holds no STREAM_KEY_ID` : "wrangler secrets cannot be read back";
      throw new UsageError(`--delete-old needs the key being replaced: pass --old-key <id> (${why}).`);
    }
    const eventsQueue = plan.events ? eventsQueueOf(deploymentVars(plan)) : null;
    say(`Stream API ${plan.apiBase}, account ${plan.accountId}, token ${mask(plan.apiToken)}.`);
    // Listing the keys proves token and account before anything changes.
    const keys = await api.listKeys();
    if (plan.deleteKey !== undefined) await deleteOnly(plan, api, store, keys, say);
    else await createAndStore(plan, api, store, keys, previousKey, { say, warn });
    if (eventsQueue !== null) {
      try {
        await ensureEventSubscription(plan, { say, warn }, eventsQueue);
      } catch (error) {
        if (!(error instanceof SetupError)) throw error;
        throw new SetupError(`${error.message}\nThe key and webhook are stored; without events the gateway polls Stream. Give the token Queues Write and run setup again, or pass --no-events.`);
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      warn(`setup: ${error.message}\nRun \`npm run setup -- --help\` for the options.`);
      return 2;
    }
    if (error instanceof SetupError) {
      warn(`setup: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
