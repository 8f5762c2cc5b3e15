// `npm run setup` against the real Stream emulator, run in-process by Miniflare: the CLI is a
// child process, as a user runs it, and every check reads the emulator's state back through
// Stream's API.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SignJWT, importJWK } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import devAccount from "../../emulator/fixtures/dev-account.json";
import { startEmulator, type NodeEmulator } from "./emulator";
import { readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { runSetup } from "../../scripts/lib/stream-setup.mjs";
import { eventSubscriptions, unsubscribe, unsubscribeAll } from "../subscriptions";

const SETUP = resolve("scripts/setup.mjs");
const ACCOUNT = devAccount.accountId;
const TOKEN = devAccount.apiToken;
const GATEWAY = "https://downloads.example.com";
const NOTIFICATION_URL = `${GATEWAY}/webhooks/stream`;

let node: NodeEmulator;
let emulator: string;
let work: string;

beforeAll(async () => {
  node = await startEmulator({ DOWNLOAD_SECONDS: "1", PROCESSING_SECONDS: "3600" });
  emulator = node.origin;
}, 60_000);

afterAll(async () => {
  await node?.dispose();
});

beforeEach(async () => {
  await control("POST", "/reset");
  work = mkdtempSync(join(tmpdir(), "setup-test-"));
  return () => rmSync(work, { recursive: true, force: true });
});

interface Envelope<T> {
  success: boolean;
  result: T;
  errors: { code: number; message: string }[];
}

async function stream<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
  const res = await fetch(`${emulator}/client/v4/accounts/${ACCOUNT}/stream${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as Envelope<T>;
}

const control = <T>(method: string, path: string, body?: unknown): Promise<T> => node.control<T>(method, path, body);

const keyIds = async () => (await stream<{ id: string }[]>("GET", "/keys")).result.map((k) => k.id);
const webhook = async () => (await stream<{ notificationUrl: string; secret: string } | null>("GET", "/webhook")).result;

interface Run {
  code: number | null;
  output: string;
}

/** Runs the CLI in `work`; setup's own variables come from `env` only, never from the machine. */
function setup(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [SETUP, ...args], {
      cwd: work,
      env: { ...process.env, CLOUDFLARE_ACCOUNT_ID: undefined, CLOUDFLARE_API_TOKEN: undefined, SETUP_WRANGLER: undefined, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", fail);
    child.on("close", (code) => done({ code, output }));
  });
}

const account = () => ({ apiBase: `${emulator}/client/v4`, accountId: ACCOUNT, apiToken: TOKEN });
const emulatorFlags = () => ["--api-base", `${emulator}/client/v4`, "--account", ACCOUNT, "--api-token", TOKEN];
const local = (...args: string[]) => setup(["--local", ...emulatorFlags(), ...args]);
const devVars = () => readDevVars(join(work, ".dev.vars")) as Record<string, string>;

/** GETs the default download of a fresh signed video with a token signed by `jwk` (base64, as Stream returns it). */
async function downloadWith(keyId: string, jwk: string): Promise<number> {
  const video = await control<{ uid: string }>("POST", "/videos", {
    requireSignedURLs: true,
    state: "ready",
    downloads: { default: "ready" },
  });
  const key = await importJWK(JSON.parse(Buffer.from(jwk, "base64").toString("utf8")), "RS256");
  const token = await new SignJWT({ kid: keyId, downloadable: true })
    .setProtectedHeader({ alg: "RS256", kid: keyId })
    .setSubject(video.uid)
    .setExpirationTime("1h")
    .sign(key);
  const res = await fetch(`${emulator}/${token}/downloads/default.mp4`);
  await res.body?.cancel();
  return res.status;
}

function expectNoSecrets(output: string, secrets: (string | undefined)[]) {
  for (const secret of secrets) {
    expect(secret).toBeTruthy();
    expect(output).not.toContain(secret);
  }
}

describe("npm run setup --local", () => {
  test("subscribes Stream's events to the gateway's queue once; a rerun keeps it; a Stream that refuses the inferred events gets the documented ones", async () => {
    const subscriptions = () => eventSubscriptions(account());
    await unsubscribeAll(account());
    const first = await local("--no-webhook");
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("Events: Stream now publishes its video and download events to stream-download-stream-events.");
    const [made, ...others] = await subscriptions();
    expect(others).toEqual([]);
    expect(made!.events.sort()).toEqual(["download.created", "download.deleted", "download.errored", "download.ready", "video_state.errored", "video_state.ready", "video_state.updated"]);

    const again = await local("--no-webhook");
    expect(again.output).toContain(`subscription ${made!.id}); kept it.`);
    expect(await subscriptions()).toHaveLength(1);

    await unsubscribe(account(), made!.id);
    await fetch(`${emulator}/__emulator/quirks`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ downloadCompletionEvents: false }) });
    try {
      const strict = await local("--no-webhook");
      expect(strict.code, strict.output).toBe(0);
      expect(strict.output).toContain("Stream refused download.ready and download.errored");
      expect((await subscriptions())[0]!.events).not.toContain("download.ready");
    } finally {
      await fetch(`${emulator}/__emulator/quirks`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ downloadCompletionEvents: true }) });
    }
    const off = await local("--no-webhook", "--no-events");
    expect(off.output).not.toContain("Events:");

    // A deployment that names its events queue (a staging environment's) has that one looked up,
    // and made when missing: the emulator knows only the default queue and creates none, so the
    // attempt is what shows the name was used.
    writeFileSync(join(work, ".dev.vars"), `${readFileSync(join(work, ".dev.vars"), "utf8")}STREAM_EVENTS_QUEUE_NAME=stream-download-stream-events-staging\n`);
    const named = await local("--no-webhook");
    expect(named.code, named.output).toBe(1);
    expect(named.output).toContain("refused POST …/queues");
    expect(named.output).not.toContain("Events: Stream already publishes to stream-download-stream-events ");
  });

  test("writes a key Stream lists, whose JWK signs tokens the delivery host accepts, and the webhook's secret", async () => {
    const path = join(work, ".dev.vars");
    writeFileSync(path, "# mine\nAUTH_HS256_SECRET=keep-me\nSTREAM_KEY_ID=stale\nSTREAM_KEY_ID=stale-twice\n", { mode: 0o644 });

    const run = await local("--gateway-url", `${GATEWAY}/`);

    expect(run.code, run.output).toBe(0);
    const vars = devVars();
    expect(await keyIds()).toContain(vars.STREAM_KEY_ID);
    expect(run.output).toContain(`Created signing key ${vars.STREAM_KEY_ID}`);
    expect(await downloadWith(vars.STREAM_KEY_ID!, vars.STREAM_KEY_JWK!)).toBe(200);
    expect(await webhook()).toEqual({ notificationUrl: NOTIFICATION_URL, modified: expect.any(String), secret: vars.STREAM_WEBHOOK_SECRET });
    expect(vars).toMatchObject({ STREAM_ACCOUNT_ID: ACCOUNT, STREAM_API_TOKEN: TOKEN, AUTH_HS256_SECRET: "keep-me" });
    const text = readFileSync(path, "utf8");
    expect(text.startsWith("# mine\nAUTH_HS256_SECRET=keep-me\n")).toBe(true);
    expect(text.match(/^STREAM_KEY_ID=/gm)).toHaveLength(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expectNoSecrets(run.output, [vars.STREAM_KEY_JWK, TOKEN, vars.STREAM_WEBHOOK_SECRET]);
  });

  test("a new key whose JWK kid differs from its id (as Stream's docs example shows) is kept, with a warning, and works under its id", async () => {
    await fetch(`${emulator}/__emulator/quirks`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ keyKid: "differs" }) });
    const run = await local("--no-webhook");
    expect(run.code, run.output).toBe(0);
    const vars = devVars();
    const kid = (JSON.parse(Buffer.from(vars.STREAM_KEY_JWK!, "base64").toString("utf8")) as { kid: string }).kid;
    expect(kid).not.toBe(vars.STREAM_KEY_ID);
    expect(run.output).toContain(`has a JWK whose kid is ${kid}`);
    expect(await keyIds()).toContain(vars.STREAM_KEY_ID);
    expect(await downloadWith(vars.STREAM_KEY_ID!, vars.STREAM_KEY_JWK!)).toBe(200);
  });

  test("credentials come from CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN; a new .dev.vars is 0600", async () => {
    const run = await setup(["--local", "--api-base", `${emulator}/client/v4`, "--no-webhook"], {
      CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
      CLOUDFLARE_API_TOKEN: TOKEN,
    });
    expect(run.code, run.output).toBe(0);
    expect(statSync(join(work, ".dev.vars")).mode & 0o777).toBe(0o600);
    expect(await keyIds()).toContain(devVars().STREAM_KEY_ID);
    expect(devVars().STREAM_WEBHOOK_SECRET).toBeUndefined();
    expect(await webhook()).toBeNull();
  });

  test("a subscription already pointing at the gateway is kept with its secret", async () => {
    const before = (await stream<{ secret: string }>("PUT", "/webhook", { notificationUrl: NOTIFICATION_URL })).result;
    const run = await local("--webhook-url", NOTIFICATION_URL);
    expect(run.code, run.output).toBe(0);
    expect((await webhook())?.secret).toBe(before.secret);
    expect(devVars().STREAM_WEBHOOK_SECRET).toBe(before.secret);
  });

  test("a subscription pointing elsewhere is refused without --force, and nothing changes", async () => {
    const other = (await stream<{ secret: string }>("PUT", "/webhook", { notificationUrl: "https://other.example/hook" })).result;
    const keysBefore = await keyIds();

    const refused = await local("--gateway-url", GATEWAY);

    expect(refused.code).toBe(1);
    expect(refused.output).toContain("https://other.example/hook");
    expect(refused.output).toContain("--force");
    expect(refused.output).toMatch(/nothing changed/);
    expect(await keyIds()).toEqual(keysBefore);
    expect(await webhook()).toMatchObject({ notificationUrl: "https://other.example/hook", secret: other.secret });
    expect(existsSync(join(work, ".dev.vars"))).toBe(false);

    const forced = await local("--gateway-url", GATEWAY, "--force");

    expect(forced.code, forced.output).toBe(0);
    const now = await webhook();
    expect(now?.notificationUrl).toBe(NOTIFICATION_URL);
    expect(devVars().STREAM_WEBHOOK_SECRET).toBe(now?.secret);
  });

  test("--rotate switches to a new key and keeps the old one; --delete-old deletes it, revoking its tokens", async () => {
    expect((await local("--no-webhook")).code).toBe(0);
    const first = devVars();

    const rotated = await local("--rotate");

    expect(rotated.code, rotated.output).toBe(0);
    const second = devVars();
    expect(second.STREAM_KEY_ID).not.toBe(first.STREAM_KEY_ID);
    expect(await keyIds()).toEqual(expect.arrayContaining([first.STREAM_KEY_ID, second.STREAM_KEY_ID]));
    expect(rotated.output).toContain(`--delete-key ${first.STREAM_KEY_ID}`);
    expect(await downloadWith(first.STREAM_KEY_ID!, first.STREAM_KEY_JWK!)).toBe(200);

    const replaced = await local("--rotate", "--delete-old");

    expect(replaced.code, replaced.output).toBe(0);
    const third = devVars();
    const keys = await keyIds();
    expect(keys).toContain(third.STREAM_KEY_ID);
    expect(keys).not.toContain(second.STREAM_KEY_ID);
    expect(keys).toContain(first.STREAM_KEY_ID);
    expect(replaced.output).toMatch(/every token it signed is revoked/);
    expect(await downloadWith(second.STREAM_KEY_ID!, second.STREAM_KEY_JWK!)).not.toBe(200);
    expect(await downloadWith(third.STREAM_KEY_ID!, third.STREAM_KEY_JWK!)).toBe(200);
  });

  test("--delete-key refuses the key the gateway uses unless forced, and deletes another", async () => {
    expect((await local("--no-webhook")).code).toBe(0);
    const first = devVars().STREAM_KEY_ID!;
    expect((await local("--rotate")).code).toBe(0);
    const current = devVars().STREAM_KEY_ID!;

    const refused = await local("--delete-key", current);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("breaks the gateway");
    expect(await keyIds()).toContain(current);

    const deleted = await local("--delete-key", first);
    expect(deleted.code, deleted.output).toBe(0);
    expect(await keyIds()).not.toContain(first);

    expect((await local("--delete-key", current, "--force")).code).toBe(0);
    expect(await keyIds()).not.toContain(current);
  });
});

describe("Stream's webhook answers naming the URL notification_url (the SDK declares it beside notificationUrl)", () => {
  const originalFetch = globalThis.fetch;
  afterEach(() => vi.restoreAllMocks());

  /** Stream's answers about the webhook with the URL under `notification_url` (and `notificationUrl` too when `both`). */
  function snakeCaseWebhook(both: boolean): void {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const res = await originalFetch(input, init);
      if (!String(input instanceof Request ? input.url : input).endsWith("/stream/webhook") || !res.ok) return res;
      const body = (await res.json()) as Envelope<Record<string, unknown>>;
      const { notificationUrl, ...rest } = body.result;
      const result = { ...rest, notification_url: notificationUrl, ...(both ? { notificationUrl } : {}) };
      return Response.json({ ...body, result }, { status: res.status });
    });
  }

  /** setup in this process (so that its fetch is the one reshaped), writing .dev.vars in `work`. */
  async function inProcess(...args: string[]): Promise<Run> {
    let output = "";
    const write = (text: string) => (output += text);
    const code = await runSetup(["--local", "--dev-vars", join(work, ".dev.vars"), ...emulatorFlags(), ...args], { env: {}, stdout: { write }, stderr: { write } });
    return { code, output };
  }

  test.each([
    ["only notification_url", false],
    ["both names", true],
  ])("with %s: a new subscription's secret is stored, one pointing here is kept, one pointing elsewhere is refused", async (_, both) => {
    snakeCaseWebhook(both);
    const subscribed = await inProcess("--gateway-url", GATEWAY);
    expect(subscribed.code, subscribed.output).toBe(0);
    expect(subscribed.output).toContain(`Webhook: subscribed ${NOTIFICATION_URL}.`);
    const secret = devVars().STREAM_WEBHOOK_SECRET;

    const kept = await inProcess("--gateway-url", GATEWAY);
    expect(kept.code, kept.output).toBe(0);
    expect(kept.output).toContain("kept it and its secret");
    expect(devVars().STREAM_WEBHOOK_SECRET).toBe(secret);

    vi.restoreAllMocks();
    expect(await webhook()).toMatchObject({ notificationUrl: NOTIFICATION_URL, secret });
    await stream("PUT", "/webhook", { notificationUrl: "https://other.example/hook" });
    snakeCaseWebhook(both);
    const refused = await inProcess("--gateway-url", GATEWAY);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("The account's webhook already goes to https://other.example/hook");
    vi.restoreAllMocks();
    expect((await webhook())?.notificationUrl).toBe("https://other.example/hook");
  });
});

describe("npm run setup errors", () => {
  test("a bad API token exits 1 with Stream's own code and message, and changes nothing", async () => {
    const keysBefore = await keyIds();
    const badToken = "wrong-but-well-formed-token-0000000000";
    const run = await setup(["--local", "--api-base", `${emulator}/client/v4`, "--account", ACCOUNT, "--api-token", badToken, "--no-webhook"]);
    expect(run.code).toBe(1);
    expect(run.output).toContain("10000 Authentication error");
    expect(run.output).not.toContain(badToken);
    expect(await keyIds()).toEqual(keysBefore);
    expect(existsSync(join(work, ".dev.vars"))).toBe(false);
  });

  test("an account the token does not cover exits 1 with Stream's error", async () => {
    const run = await setup(["--local", "--api-base", `${emulator}/client/v4`, "--account", "f".repeat(32), "--api-token", TOKEN, "--no-webhook"]);
    expect(run.code).toBe(1);
    expect(run.output).toContain("10000 Authentication error");
  });

  test("usage errors exit 2 before any Stream call: no account, unknown flag, no webhook choice", async () => {
    const noAccount = await setup(["--local", "--api-base", `${emulator}/client/v4`, "--no-webhook"], { CLOUDFLARE_API_TOKEN: TOKEN });
    expect(noAccount.code).toBe(2);
    expect(noAccount.output).toContain("CLOUDFLARE_ACCOUNT_ID");
    expect((await local("--bogus")).code).toBe(2);
    expect((await local()).code).toBe(2);
    expect((await local("--delete-old")).code).toBe(2);
    expect((await local("--rotate", "--delete-old", "--dev-vars", join(work, "absent"))).code).toBe(2);
    expect((await control<{ api: number }>("GET", "/counters")).api).toBe(0);
  });

  test("--help documents every option and exits 0", async () => {
    const run = await setup(["--help"]);
    expect(run.code).toBe(0);
    for (const flag of ["--account", "--api-token", "--api-base", "--gateway-url", "--webhook-url", "--no-webhook", "--force", "--rotate", "--delete-old", "--old-key", "--delete-key", "--local", "--dev-vars", "--env", "SETUP_WRANGLER"]) {
      expect(run.output).toContain(flag);
    }
    expect(run.output).toMatch(/REVOKES EVERY\s+TOKEN IT SIGNED/);
  });
});

describe("npm run setup with wrangler", () => {
  let fake: string;
  let log: string;

  beforeEach(() => {
    fake = join(work, "fake-wrangler.mjs");
    log = join(work, "wrangler-calls.jsonl");
    // Records its arguments and stdin. When told to fail, it echoes its input the way a careless
    // tool might, so the test also sees that setup redacts what wrangler prints.
    writeFileSync(
      fake,
      `import { appendFileSync, readFileSync } from "node:fs";
const stdin = readFileSync(0, "utf8");
appendFileSync(process.env.FAKE_WRANGLER_LOG, JSON.stringify({ args: process.argv.slice(2), stdin, cwd: process.cwd() }) + "\\n");
if (process.env.FAKE_WRANGLER_FAIL) { console.error("could not upload " + stdin); process.exit(1); }
console.log("uploaded " + Object.keys(JSON.parse(stdin)).join(", "));
`,
    );
  });

  const env = (extra: Record<string, string> = {}) => ({
    CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
    CLOUDFLARE_API_TOKEN: TOKEN,
    SETUP_WRANGLER: `"${process.execPath}" "${fake}"`,
    FAKE_WRANGLER_LOG: log,
    ...extra,
  });
  const calls = () =>
    readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { args: string[]; stdin: string; cwd: string });

  test("stores every secret with one `secret bulk` call, values on stdin, none in the output", async () => {
    const run = await setup(["--api-base", `${emulator}/client/v4`, "--gateway-url", GATEWAY, "--env", "production"], env());

    expect(run.code, run.output).toBe(0);
    const [call, ...more] = calls();
    expect(more).toEqual([]);
    expect(call?.args).toEqual(["secret", "bulk", "--env", "production"]);
    expect(call?.cwd).toBe(work);
    const secrets = JSON.parse(call!.stdin) as Record<string, string>;
    expect(Object.keys(secrets).sort()).toEqual([
      "STREAM_ACCOUNT_ID",
      "STREAM_API_TOKEN",
      "STREAM_KEY_ID",
      "STREAM_KEY_JWK",
      "STREAM_WEBHOOK_SECRET",
    ]);
    expect(secrets).toMatchObject({ STREAM_ACCOUNT_ID: ACCOUNT, STREAM_API_TOKEN: TOKEN });
    expect(await keyIds()).toContain(secrets.STREAM_KEY_ID);
    expect(await downloadWith(secrets.STREAM_KEY_ID!, secrets.STREAM_KEY_JWK!)).toBe(200);
    expect((await webhook())?.secret).toBe(secrets.STREAM_WEBHOOK_SECRET);
    expect(run.output).toContain(secrets.STREAM_KEY_ID);
    expectNoSecrets(run.output, [secrets.STREAM_KEY_JWK, TOKEN, secrets.STREAM_WEBHOOK_SECRET]);
    expect(existsSync(join(work, ".dev.vars"))).toBe(false);
  });

  test("an --env that wrangler.toml does not have exits 2 before anything changes: no key, no secret, no subscription of production's queue", async () => {
    writeFileSync(join(work, "wrangler.toml"), 'name = "gw"\n[vars]\nSTREAM_EVENTS_QUEUE_NAME = "prod-events"\n[env.staging.vars]\nSTREAM_EVENTS_QUEUE_NAME = "staging-events"\n');
    const [keysBefore, subscriptionsBefore] = [await keyIds(), await eventSubscriptions(account())];
    const run = await setup(["--api-base", `${emulator}/client/v4`, "--gateway-url", GATEWAY, "--env", "stagin"], env());
    expect(run.code, run.output).toBe(2);
    expect(run.output).toContain("wrangler.toml has no [env.stagin]; nothing changed.");
    expect(await keyIds()).toEqual(keysBefore);
    expect(await eventSubscriptions(account())).toEqual(subscriptionsBefore);
    expect(existsSync(log) ? readFileSync(log, "utf8") : "").toBe("");

    writeFileSync(join(work, "wrangler.toml"), "name = \"gw\"\n[vars\n");
    const unreadable = await setup(["--api-base", `${emulator}/client/v4`, "--gateway-url", GATEWAY], env());
    expect(unreadable.code, unreadable.output).toBe(2);
    expect(unreadable.output).toContain("wrangler.toml cannot be read");
    expect(await keyIds()).toEqual(keysBefore);
  });

  test("a failed upload exits 1, deletes the key it just made, and prints no secret", async () => {
    const keysBefore = await keyIds();
    const run = await setup(["--api-base", `${emulator}/client/v4`, "--no-webhook"], env({ FAKE_WRANGLER_FAIL: "1" }));

    expect(run.code).toBe(1);
    const secrets = JSON.parse(calls()[0]!.stdin) as Record<string, string>;
    expect(run.output).toContain(`Deleted the new key ${secrets.STREAM_KEY_ID} again`);
    expect(await keyIds()).toEqual(keysBefore);
    expectNoSecrets(run.output, [secrets.STREAM_KEY_JWK, TOKEN]);
  });

  test("--rotate --delete-old without --old-key is a usage error: wrangler secrets cannot be read back", async () => {
    const run = await setup(["--api-base", `${emulator}/client/v4`, "--rotate", "--delete-old"], env());
    expect(run.code).toBe(2);
    expect(run.output).toContain("--old-key");
    expect(existsSync(log)).toBe(false);
  });

  test("--rotate --old-key --delete-old deletes the named key after the new one is stored", async () => {
    const old = devAccount.signingKey.id;
    expect(await keyIds()).toContain(old);
    const run = await setup(["--api-base", `${emulator}/client/v4`, "--rotate", "--old-key", old, "--delete-old"], env());
    expect(run.code, run.output).toBe(0);
    const secrets = JSON.parse(calls()[0]!.stdin) as Record<string, string>;
    expect(Object.keys(secrets)).not.toContain("STREAM_WEBHOOK_SECRET");
    const keys = await keyIds();
    expect(keys).toContain(secrets.STREAM_KEY_ID);
    expect(keys).not.toContain(old);
  });
});
