// The reference Worker (wrangler.toml): the gateway library configured from `env`, plus the
// download-button helper and the development-only demo from public/, and the crons.
import { assetRoutes } from "./demo/assets";
import { demoRoutes } from "./demo/routes";
import { problemResponse } from "./http/respond";
import { streamDownloads, type StreamDownloadsOptions } from "./library";
import { gatewayResolver } from "./options";
import { Problem } from "./problems";

const options = (env: Env): StreamDownloadsOptions<Env> => ({ settings: env, bindings: env });

const app = streamDownloads(options);
// public/ (Workers Static Assets): the download-button helper always, the demo page in development.
app.route("/", assetRoutes());
app.route("/", demoRoutes());
app.notFound((c) => problemResponse(new Problem("not-found", "No such route."), c.req.raw));

/** A gateway of this Worker's options, for tests that reach inside (its keys, its signer). */
export const gatewayOf = gatewayResolver(options);

/** The Hono app itself, for tests that inspect its routes (openapi.test.ts) or mount it. */
export { app };
export { StreamApiBudget } from "./stream/budget-object";

export default {
  fetch: app.fetch,
  scheduled: app.scheduled,
} satisfies ExportedHandler<Env>;
