import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";
import devAccount from "./emulator/fixtures/dev-account.json" with { type: "json" };

// The plugin cannot point an auxiliary Worker at a wrangler config, so the emulator is bundled
// in memory here (TOOLCHAIN.md). It then plays Stream for every outbound fetch of the gateway
// and of the tests: api.cloudflare.com and customer-….cloudflarestream.com alike.
async function bundleEmulator(): Promise<string> {
  const result = await build({
    entryPoints: ["emulator/src/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    loader: { ".mp4": "binary", ".m4a": "binary" },
    external: ["cloudflare:*"],
    write: false,
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild produced no emulator bundle");
  return output.text;
}

export const EMULATOR_DELIVERY_BASE = `https://customer-${devAccount.customerCode}.cloudflarestream.com`;

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        outboundService: "stream-emulator",
        // The emulator evaluates ip.src access rules against CF-Connecting-IP, as Stream does.
        stripCfConnectingIp: false,
        bindings: { TEST_MIGRATIONS: await readD1Migrations("./migrations") },
        workers: [
          {
            name: "stream-emulator",
            modules: true,
            script: await bundleEmulator(),
            compatibilityDate: "2026-11-09",
            bindings: {
              DELIVERY_BASE: EMULATOR_DELIVERY_BASE,
              DOWNLOAD_SECONDS: "1",
              PROCESSING_SECONDS: "1",
            },
            durableObjects: { ACCOUNT: { className: "StreamAccount", useSQLite: true } },
          },
        ],
      },
    }),
  ],
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    setupFiles: ["./test/setup.ts"],
    deps: { optimizer: { ssr: { enabled: true, include: ["cloudflare"] } } },
  },
}));
