// `npm run doctor` against the real Stream emulator in Miniflare, with one seeded fault per
// diagnosis: each failure must be named with its fix, and a healthy account must pass.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import devAccount from "../../emulator/fixtures/dev-account.json";
import { startEmulator, type NodeEmulator } from "./emulator";
import { runDoctor } from "../../scripts/lib/doctor.mjs";
import { DEV_SERVERS_FILE } from "../../scripts/lib/servers.mjs";
import { emulatorVars } from "../../cli/init.mjs";
import { ensureEventSubscription } from "../../scripts/lib/event-subscription.mjs";
import { unsubscribeAll } from "../subscriptions";

const GATEWAY = "https://downloads.example.com";
const WEBHOOK_SECRET = "doctor-test-webhook-secret";

let node: NodeEmulator;
let origin: string;

beforeAll(async () => {
  node = await startEmulator({ DOWNLOAD_SECONDS: "0", PROCESSING_SECONDS: "3600" });
  origin = node.origin;
}, 60_000);

afterAll(async () => {
  await node?.dispose();
});

const control = <T>(method: string, path: string, body?: unknown): Promise<T> => node.control<T>(method, path, body);

beforeEach(async () => {
  await control("POST", "/reset");
  await control("PUT", "/webhook", { notificationUrl: `${GATEWAY}/webhooks/stream`, secret: WEBHOOK_SECRET });
  await ensureEventSubscription({ apiBase: `${origin}/client/v4`, accountId: devAccount.accountId, apiToken: devAccount.apiToken }, { say: () => {}, warn: () => {} });
});

/** A ready video that requires signed URLs, with its MP4 ready (or as `options` say). */
async function video(options: Record<string, unknown> = {}): Promise<string> {
  const seeded = await control<{ uid: string }>("POST", "/videos", { requireSignedURLs: true, state: "ready", downloads: { default: "ready" }, ...options });
  return seeded.uid;
}

/** The settings of a healthy production gateway on the emulator, given as environment variables. */
function healthy(): Record<string, string> {
  return {
    ...emulatorVars(devAccount, origin),
    STREAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    AUTH_HS256_SECRET: "doctor-test-secret-at-least-32-bytes-long",
  };
}

async function doctor(env: Record<string, string>, ...args: string[]): Promise<{ code: number; output: string }> {
  let output = "";
  const code = await runDoctor(["--remote", "--gateway-url", GATEWAY, ...args], { env, out: { write: (text: string) => (output += text) } });
  return { code, output };
}

describe("npm run doctor", () => {
  test("a healthy account passes every check, probing one byte of the video, and prints no secret", async () => {
    const uid = await video();
    const run = await doctor(healthy(), "--video", uid);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`✓ video ${uid}`);
    expect(run.output).toContain("(206)");
    expect(run.output).toMatch(/✓ allowed origins: none of the \d+ videos listed restricts allowedOrigins/);
    expect(run.output).toContain("✓ events: Stream publishes 7 event types to stream-download-stream-events");
    expect(run.output).toContain("All checks passed.\n");
    expect(run.output).not.toMatch(/✗/);
    for (const secret of [devAccount.apiToken, devAccount.signingKey.jwk, WEBHOOK_SECRET]) expect(run.output).not.toContain(secret);
  });

  test("without Stream's event subscription: a warning with its fix (the gateway polls), not a failure", async () => {
    await unsubscribeAll({ apiBase: `${origin}/client/v4`, accountId: devAccount.accountId, apiToken: devAccount.apiToken });
    const run = await doctor(healthy(), "--video", await video());
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/! events: no subscription sends Stream's events to stream-download-stream-events: downloads in progress are polled[\s\S]*fix: `npm run setup`/);
    expect(run.output).toContain("All checks passed; see the warning above.\n");
  });

  test.each([
    [
      "an unregistered key id",
      async () => ({ env: { ...healthy(), STREAM_KEY_ID: "0123456789abcdef0123456789abcdef" }, args: [] }),
      /✗ signing key: Stream lists no key with id 0123456789abcdef0123456789abcdef[\s\S]*fix: .*npm run setup -- --rotate/,
    ],
    [
      "the JWK of another key",
      async () => {
        const other = await fetch(`${origin}/client/v4/accounts/${devAccount.accountId}/stream/keys`, {
          method: "POST",
          headers: { authorization: `Bearer ${devAccount.apiToken}` },
        });
        const { result } = (await other.json()) as { result: { jwk: string } };
        return { env: { ...healthy(), STREAM_KEY_JWK: result.jwk }, args: ["--video", await video()] };
      },
      /✗ video [0-9a-f]{32}: Stream refused a token signed with STREAM_KEY_JWK[\s\S]*fix: STREAM_KEY_JWK is not the private key of STREAM_KEY_ID/,
    ],
    [
      "a public video",
      async () => ({ env: healthy(), args: ["--video", await video({ requireSignedURLs: false })] }),
      /✗ video [0-9a-f]{32}: the video does not require signed URLs[\s\S]*fix: curl -X POST .*requireSignedURLs/,
    ],
    [
      "a missing download",
      async () => ({ env: healthy(), args: ["--video", await video({ downloads: {} })] }),
      /✗ video [0-9a-f]{32}: ready and signed, but Stream has no MP4 download[\s\S]*fix: create it/,
    ],
    [
      "a webhook pointing elsewhere",
      async () => {
        await control("PUT", "/webhook", { notificationUrl: "https://other.example/hook", secret: WEBHOOK_SECRET });
        return { env: healthy(), args: [] };
      },
      /✗ webhook: Stream calls https:\/\/other\.example\/hook, not https:\/\/downloads\.example\.com\/webhooks\/stream[\s\S]*fix: `npm run setup -- --gateway-url https:\/\/downloads\.example\.com --force` \(it also creates a new signing key/,
    ],
    [
      "an API token Stream refuses",
      async () => ({ env: { ...healthy(), STREAM_API_TOKEN: "not-the-token-at-all-0123456789" }, args: [] }),
      /✗ API token: Stream refused STREAM_API_TOKEN[\s\S]*fix: check STREAM_ACCOUNT_ID .*then the token: it needs Stream Read and Stream Write/,
    ],
    [
      "Stream unreachable",
      async () => ({ env: { ...healthy(), STREAM_API_BASE: "http://127.0.0.1:9/client/v4" }, args: [] }),
      /✗ Stream API: Stream's API did not answer at http:\/\/127\.0\.0\.1:9\/client\/v4[\s\S]*fix: check STREAM_API_BASE/,
    ],
    [
      "a 429 lockout",
      async () => {
        await control("POST", "/faults", { operation: "*", status: 429, retryAfter: 300 });
        return { env: healthy(), args: [] };
      },
      /✗ Stream API: Stream rate-limits the user who owns STREAM_API_TOKEN \(429\): every call is locked out for 300 s[\s\S]*fix: wait 300 s; Stream's limit \(1,200 calls per 5 minutes\) is per user, counted across the dashboard, API keys and every token of that user/,
    ],
    [
      "an errored video that says readyToStream: true (judged as the gateway does)",
      async () => {
        await control("PUT", "/quirks", { erroredReadyToStream: true });
        return { env: healthy(), args: ["--video", await video({ state: "error", downloads: {} })] };
      },
      /✗ video [0-9a-f]{32}: the video is error, not ready to stream[\s\S]*fix: it failed to process/,
    ],
    [
      "a missing setting",
      async () => {
        const { STREAM_KEY_JWK: _, ...rest } = healthy();
        return { env: rest, args: [] };
      },
      /✗ settings: STREAM_KEY_JWK is required[\s\S]*fix: set STREAM_KEY_JWK in wrangler\.toml \[vars\] or `wrangler secret put NAME`/,
    ],
  ])("names %s and its fix, and exits 1", async (_, seed, diagnosis) => {
    const { env, args } = await seed();
    const run = await doctor(env, ...args);
    expect(run.output).toMatch(diagnosis);
    expect(run.code, run.output).toBe(1);
    expect(run.output).not.toContain(devAccount.signingKey.jwk);
  });

  test("videos restricting allowedOrigins are a warning naming them and the risk, not a failure: exit 0", async () => {
    const restricted = await video({ allowedOrigins: ["example.com", "*.example.com"] });
    const run = await doctor(healthy(), "--video", await video());
    expect(run.output).toContain(`! allowed origins: 1 of the `);
    expect(run.output).toContain(`videos listed restrict allowedOrigins: ${restricted} (example.com, *.example.com).`);
    expect(run.output).toMatch(/Whether Stream applies allowedOrigins to \/downloads\/\*\.mp4 and \*\.m4a is undocumented; if it does, their downloads may be refused to browsers whose Origin or Referer is not listed/);
    expect(run.output).toMatch(/fix: if their downloads fail, clear it: curl -X POST .*\{"allowedOrigins":\[\]\}.*quirk allowedOriginsOnDownloads/);
    expect(run.output).toContain("All checks passed; see the warning above.");
    expect(run.code, run.output).toBe(0);
  });

  test("a warning names at most 5 videos and counts the rest", async () => {
    for (let i = 0; i < 7; i++) await video({ allowedOrigins: [`site${i}.example`] });
    const run = await doctor(healthy());
    expect(run.output).toMatch(/! allowed origins: 7 of the \d+ videos listed restrict allowedOrigins: (?:[0-9a-f]{32} \(site\d\.example\), ){4}[0-9a-f]{32} \(site\d\.example\) and 2 more\./);
    expect(run.code, run.output).toBe(0);
  });

  describe("Stream's answers read as the gateway reads them", () => {
    const originalFetch = globalThis.fetch;
    afterEach(() => vi.restoreAllMocks());

    /** Stream's REST answers whose path ends with `suffix`, their `result` through `edit`. */
    function reshape(suffix: string, edit: (result: Record<string, unknown>) => unknown): void {
      vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
        const res = await originalFetch(input, init);
        if (!new URL(input instanceof Request ? input.url : String(input)).pathname.endsWith(suffix) || !res.ok) return res;
        const body = (await res.json()) as { result: Record<string, unknown> };
        return Response.json({ ...body, result: edit(body.result) }, { status: res.status });
      });
    }

    test("a webhook answer naming its URL notification_url (the SDK declares it) is the subscription", async () => {
      reshape("/stream/webhook", ({ notificationUrl, ...rest }) => ({ ...rest, notification_url: notificationUrl }));
      const run = await doctor(healthy());
      expect(run.output).toContain(`✓ webhook: Stream calls ${GATEWAY}/webhooks/stream with the secret the gateway holds`);
      expect(run.code, run.output).toBe(0);
    });

    test("an MP4 entry without status at 100 % is ready, as the gateway reads it", async () => {
      const uid = await video();
      reshape(`/${uid}/downloads`, (result) => ({ default: { percentComplete: (result["default"] as { percentComplete: number }).percentComplete } }));
      const run = await doctor(healthy(), "--video", uid);
      expect(run.output).toContain(`✓ video ${uid}: ready, signed, default: ready, audio: none;`);
      expect(run.code, run.output).toBe(0);
    });

    test("a video that is ready but not readyToStream fails: both must hold for it to play", async () => {
      const uid = await video();
      reshape(`/${uid}`, (result) => ({ ...result, readyToStream: false }));
      const run = await doctor(healthy(), "--video", uid);
      expect(run.output).toMatch(/✗ video [0-9a-f]{32}: the video is ready but not readyToStream \(both must hold for it to play\)[\s\S]*fix: wait for Stream to finish processing it/);
      expect(run.code, run.output).toBe(1);
    });
  });

  test("in local mode the fixes stay local: no setup command that would reach a real account", async () => {
    const work = mkdtempSync(join(tmpdir(), "doctor-local-"));
    try {
      copyFileSync("wrangler.toml", join(work, "wrangler.toml"));
      await control("PUT", "/webhook", { notificationUrl: "https://other.example/hook", secret: WEBHOOK_SECRET });
      let output = "";
      const code = await runDoctor([], {
        env: { ...healthy(), STREAM_KEY_ID: "0123456789abcdef0123456789abcdef", PORT: "9" },
        cwd: work,
        out: { write: (text: string) => (output += text) },
      });
      expect(code).toBe(1);
      expect(output).toContain("delete .dev.vars and restart `npm run dev`");
      expect(output).toContain("restart `npm run dev`: it subscribes the emulator's webhook");
      expect(output).not.toContain("npm run setup");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  /** Doctor in local mode, in a checkout of its own where a running `npm run dev` recorded `pair`. */
  async function withRecord(pair: { gateway: string; emulator: string }, env: Record<string, string>): Promise<{ code: number; output: string }> {
    const work = mkdtempSync(join(tmpdir(), "doctor-recorded-"));
    try {
      copyFileSync("wrangler.toml", join(work, "wrangler.toml"));
      mkdirSync(join(work, ".wrangler"));
      writeFileSync(join(work, DEV_SERVERS_FILE), JSON.stringify({ ...pair, pid: process.pid }));
      let output = "";
      const code = await runDoctor([], { env, cwd: work, out: { write: (text: string) => (output += text) } });
      return { code, output };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  test("with no flags and no PORT, doctor checks the pair `npm run dev` recorded, on its ports, and says so when its gateway does not answer", async () => {
    // A gateway port nothing listens on, and the emulator's own origin: only the record names them.
    const gateway = "http://localhost:9";
    await control("PUT", "/webhook", { notificationUrl: `${gateway}/webhooks/stream`, secret: "dev-only-webhook-secret" });
    const { code, output } = await withRecord({ gateway, emulator: origin }, {});
    expect(output).toContain("✓ API token: Stream accepts STREAM_API_TOKEN");
    expect(output).toContain(`✓ webhook: Stream calls ${gateway}/webhooks/stream with the secret the gateway holds`);
    expect(output).toContain(`✗ gateway: ${gateway}/healthz answered nothing`);
    expect(output).toContain(`the \`npm run dev\` recorded in ${DEV_SERVERS_FILE} runs but does not answer`);
    expect(code).toBe(1);
  });

  test("PORT and EMULATOR_PORT given to doctor win over the record, and the fix names them", async () => {
    const { code, output } = await withRecord({ gateway: "http://localhost:9", emulator: origin }, { EMULATOR_PORT: "9" });
    expect(output).toContain("Stream's API did not answer at http://localhost:9/client/v4");
    expect(output).toContain("fix: start `npm run dev` with the PORT and EMULATOR_PORT given here");
    expect(code).toBe(1);
  });

  test("usage errors exit 2 with the help text; --help exits 0", async () => {
    expect((await doctor(healthy(), "--video", "not-a-uid")).code).toBe(2);
    expect((await doctor(healthy(), "--bogus")).code).toBe(2);
    const help = await doctor(healthy(), "--help");
    expect(help.code).toBe(0);
    expect(help.output).toContain("npm run doctor -- [options]");
  });
});
