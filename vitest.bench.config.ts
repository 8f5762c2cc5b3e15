// The in-workerd part of `npm run bench`, run with `vitest run --config vitest.bench.config.ts`
// (never by `npm test`):
// - "gateway": bench/*.test.ts in the test suite's workerd project, emulator and D1 included
//   (D1 round trips per hot request, where a hot download's time goes);
// - "mint": bench/*.bench.ts as Vitest benchmarks in a bare workerd project. It has no emulator:
//   Vitest names a benchmark project "<name> (bench)", and the emulator's webhook binding names
//   the gateway project's runner Worker, which a renamed project would not have.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import testConfig from "./vitest.config.ts";

export default defineConfig(async (configEnv) => {
  const { test } = await testConfig(configEnv);
  const gateway = test?.projects?.find((project) => typeof project === "object" && project.test?.name === "gateway");
  if (typeof gateway !== "object") throw new Error("vitest.config.ts has no project named gateway");
  return {
    test: {
      fileParallelism: false,
      projects: [
        { ...gateway, test: { ...gateway.test, include: ["bench/**/*.test.ts"] } },
        {
          plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
          test: { name: "mint", include: [], benchmark: { enabled: true, include: ["bench/**/*.bench.ts"] } },
        },
      ],
    },
  };
});
