import { defineConfig } from "vitest/config";

// `npm run test:browser`: the demo page in Debian's Chromium (playwright-core), against the
// emulator and the gateway under `wrangler dev`, which test/e2e/servers.ts starts and stops.
export default defineConfig({
  test: {
    name: "browser",
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/e2e/servers.ts"],
    // One browser, one pair of servers, one emulator state.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/browser.json" },
  },
});
