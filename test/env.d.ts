import type { D1Migration } from "@cloudflare/vitest-plugin";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** The emulator's Workers binding entry point (emulator/src/binding.ts), typed as Stream's own binding. */
      EMULATED_STREAM: StreamBinding;
    }
  }
}
