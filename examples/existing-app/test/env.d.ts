import type { D1Migration } from "@cloudflare/vitest-plugin";

// What the "example" project in the repository's vitest.config.ts adds to the Worker's bindings.
declare global {
  namespace Cloudflare {
    interface Env {
      APP_MIGRATIONS: D1Migration[];
      GATEWAY_MIGRATIONS: D1Migration[];
    }
  }
}
