import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { buildClient } from "./client/build.mjs";
// The plugin cannot point an auxiliary Worker at a wrangler config, so the emulator is bundled
// in memory. It then plays Stream for every outbound fetch of the gateway and of the tests:
// api.cloudflare.com and customer-….cloudflarestream.com alike.
import { bundleEmulator } from "./emulator/bundle.mjs";
import devAccount from "./emulator/fixtures/dev-account.json" with { type: "json" };

export const EMULATOR_DELIVERY_BASE = `https://customer-${devAccount.customerCode}.cloudflarestream.com`;

// The plugin reads wrangler.toml through wrangler, which would report, for every project and
// run, that it loaded the developer's .dev.vars: true, and pointless, since gatewayBindings
// below names every setting. Its warnings and errors still show.
process.env["WRANGLER_LOG"] ??= "warn";

// The gateway under test: real Stream URLs (the emulator answers them), dev-only credentials,
// short intervals so that tests of polling and timeouts stay fast. Every setting is named here,
// so that a developer's own .dev.vars (which the plugin also reads) cannot change a test run.
const gatewayBindings = {
  AUTH_JWKS_URL: "",
  AUTH_ISSUER: "",
  AUTH_AUDIENCE: "",
  AUTH_VIDEOS_CLAIM: "videos",
  TOKEN_TTL_SECONDS: "3600",
  READY_TTL_SECONDS: "3600",
  MEMORY_CACHE_SECONDS: "30",
  ALLOW_PUBLIC_VIDEOS: "false",
  LOCK_TO_CLIENT_IP: "false",
  ALLOWED_COUNTRIES: "",
  BLOCKED_COUNTRIES: "",
  DELIVERY_MODES: "redirect,stream",
  DAILY_DOWNLOAD_QUOTA: "0",
  DEMO_ENABLED: "false",
  SHARE_LINK_MAX_TTL: "604800",
  SHARE_LINK_MAX_ACTIVE: "100",
  SHARE_LINK_MAX_NETWORKS: "0",
  SHARE_LINK_MAX_COUNTRIES: "0",
  SHARE_LINK_LEAK_WINDOW: "86400",
  BRAND_NAME: "",
  BRAND_LOGO_URL: "",
  BRAND_ACCENT: "#0b57d0",
  RECIPIENT_LANGUAGE: "",
  // Tests that exhaust the budget set their own; the others must never meet it.
  STREAM_API_BUDGET: "1000000",
  STREAM_API_USER_SHARE: "1000000",
  STREAM_API_NETWORK_SHARE: "1000000",
  PREPARE_DOWNLOADS: "",
  AUDIT_RETENTION_DAYS: "90",
  AUDIT_RETRY_SECONDS: "1",
  EVENTS_URL: "",
  EVENTS_SECRET: "",
  STREAM_WEBHOOK_SECRET: "test-only-webhook-secret-0123456789abcdef",
  STREAM_ACCOUNT_ID: devAccount.accountId,
  STREAM_API_TOKEN: devAccount.apiToken,
  STREAM_KEY_ID: devAccount.signingKey.id,
  STREAM_KEY_JWK: devAccount.signingKey.jwk,
  STREAM_API_BASE: "https://api.cloudflare.com/client/v4",
  STREAM_DELIVERY_BASE: EMULATOR_DELIVERY_BASE,
  AUTH_HS256_SECRET: "test-only-hs256-secret-not-for-production-use",
  AUTH_COOKIE_NAME: "sdg_session",
  ADMIN_API_TOKEN: "test-admin-token-one,test-admin-token-two",
  CORS_ORIGINS: "https://app.example",
  STREAM_TIMEOUT_MS: "500",
  POLL_INTERVAL_SECONDS: "2",
};

// public/ is served through the assets binding (wrangler.toml [assets]); the helper and the demo
// script in it are built from client/, here as in `npm run dev`, so a fresh clone's `npm test` has them.
await buildClient();

const migrations = await readD1Migrations("./migrations");
const emulatorScript = await bundleEmulator();

/** A Worker under test: its wrangler config, the bindings tests give it, the setup that migrates its D1. */
interface TestedWorker {
  configPath: string;
  /** The entry, when not the config's `main`. */
  main?: string;
  bindings: Record<string, unknown>;
  setupFile: string;
  /** Queue consumers of its own instead of the config's. */
  queueConsumers?: Record<string, unknown>;
}

const gatewayWorker: TestedWorker = {
  configPath: "./wrangler.toml",
  // The development entry: the deployed Worker plus the demo, which test/demo/ covers.
  main: "./src/dev.ts",
  bindings: { ...gatewayBindings, TEST_MIGRATIONS: migrations },
  setupFile: "./test/setup.ts",
  // wrangler.toml's queues, except that a batch leaves at once instead of after up to a second:
  // tests that wait for the audit trail (drainAudit) then wait milliseconds.
  queueConsumers: {
    "stream-download-audit": { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 5, deadLetterQueue: "stream-download-audit-dlq" },
    "stream-download-audit-dlq": { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 100 },
    "stream-download-stream-events": { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 10 },
  },
};

// The fault run: the development Worker with a consumer that fails at random, and queues that
// give up sooner and deliver smaller batches than the deployed ones, so that many batches meet
// faults and some reach the dead-letter queue within seconds.
const faultRunWorker: TestedWorker = {
  configPath: "./wrangler.toml",
  main: "./test/fault-run/chaos-worker.ts",
  bindings: gatewayWorker.bindings,
  setupFile: "./test/setup.ts",
  queueConsumers: {
    "stream-download-audit": { maxBatchSize: 5, maxBatchTimeout: 1, maxRetries: 1, deadLetterQueue: "stream-download-audit-dlq" },
    "stream-download-audit-dlq": { maxBatchSize: 5, maxBatchTimeout: 1, maxRetries: 100 },
  },
};

// The example app brings its own identify and entitle, so it is given only what reaches Stream.
const { STREAM_ACCOUNT_ID, STREAM_API_TOKEN, STREAM_KEY_ID, STREAM_KEY_JWK, STREAM_API_BASE, STREAM_DELIVERY_BASE } = gatewayBindings;
const exampleWorker: TestedWorker = {
  configPath: "./examples/existing-app/wrangler.toml",
  bindings: {
    STREAM_ACCOUNT_ID, STREAM_API_TOKEN, STREAM_KEY_ID, STREAM_KEY_JWK, STREAM_API_BASE, STREAM_DELIVERY_BASE,
    APP_MIGRATIONS: await readD1Migrations("./examples/existing-app/migrations"),
    GATEWAY_MIGRATIONS: migrations,
  },
  setupFile: "./examples/existing-app/test/setup.ts",
};

/**
 * A workerd project: a Worker under test with the emulator as its auxiliary Worker. The
 * emulator's webhooks reach this project's own runner Worker ("vitest-plugin-runner-<name>").
 */
function workerdProject(name: string, include: string[], setupFiles: string[], worker = gatewayWorker, exclude: string[] = []) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: worker.configPath },
        ...(worker.main ? { main: worker.main } : {}),
        miniflare: {
          outboundService: "stream-emulator",
          // The emulator evaluates ip.src access rules against CF-Connecting-IP, as Stream does.
          stripCfConnectingIp: false,
          serviceBindings: { EMULATED_STREAM: { name: "stream-emulator", entrypoint: "StreamBinding" } },
          bindings: worker.bindings,
          ...(worker.queueConsumers ? { queueConsumers: worker.queueConsumers } : {}),
          workers: [
            {
              name: "stream-emulator",
              modules: true,
              script: emulatorScript,
              compatibilityDate: "2026-11-09",
              bindings: {
                DELIVERY_BASE: EMULATOR_DELIVERY_BASE,
                DOWNLOAD_SECONDS: "1",
                PROCESSING_SECONDS: "1",
              },
              durableObjects: { ACCOUNT: { className: "StreamAccount", useSQLite: true } },
              // Stream's event subscriptions publish into the gateway's queue, as under `npm run dev`.
              queueProducers: { STREAM_EVENTS: "stream-download-stream-events" },
              serviceBindings: { WEBHOOK_TARGET: `vitest-plugin-runner-${name}` },
            },
          ],
        },
      }),
    ],
    test: {
      name,
      include,
      exclude,
      setupFiles: [worker.setupFile, ...setupFiles],
      deps: { optimizer: { ssr: { enabled: true, include: ["cloudflare"] } } },
    },
  };
}

export default defineConfig(async () => ({
  test: {
    // One file at a time: the files share one emulator, and Stream (so the emulator) has one
    // webhook subscription per account that several files replace. On 2 cores it costs nothing.
    fileParallelism: false,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    // Many tests drive the gateway into the failures it logs (a D1 fault, an identity provider
    // outage): those logs are shown for a failing test only.
    silent: "passed-only",
    projects: [
      // Tests mirror src/ (test/identify/ tests src/identify/, …); test/emulator/ pins the emulator's
      // contract, test/attack/ and test/record/ hold the cross-cutting attacks and invariants.
      workerdProject("gateway", ["test/**/*.test.ts"], [], gatewayWorker, ["test/node/**", "test/e2e/**", "test/fault-run/**"]),
      // Bounded load while the audit queue's consumer and D1 fail at random (test/fault-run/).
      workerdProject("fault-run", ["test/fault-run/**/*.test.ts"], [], faultRunWorker),
      // The gateway's download path again, with the emulator answering every undocumented choice
      // the other way (emulator/README.md › Assumptions): the gateway must not depend on the emulator's reading.
      workerdProject(
        "gateway-quirks",
        ["routes/downloads", "routes/share-page", "routes/share-links", "routes/webhooks", "ensure/status"].map((file) => `test/${file}.test.ts`),
        ["./test/other-quirks.ts"],
      ),
      {
        // The library inside an app that already has sessions and purchases, as its customers will
        // install it: `stream-download-gateway` is this repository's src/library.ts.
        ...workerdProject("example", ["examples/existing-app/test/**/*.test.ts"], [], exampleWorker),
        resolve: { alias: [{ find: /^stream-download-gateway$/, replacement: fileURLToPath(new URL("./src/library.ts", import.meta.url)) }] },
      },
      {
        // Node-side checks: scripts and documents that run outside workerd.
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
        resolve: { alias: { "cloudflare:workers": fileURLToPath(new URL("./test/node/cloudflare-workers.ts", import.meta.url)) } },
      },
    ],
  },
}));
