// The deployed reference Worker: the gateway and the download-button helper (worker.ts).
import { assetRoutes } from "./demo/assets";
import { referenceWorker } from "./worker";

const { app, handler } = referenceWorker([assetRoutes()]);

/** The Hono app itself, for tests that inspect its routes (openapi.test.ts) or mount it. */
export { app };
export { gatewayOf } from "./worker";
// By name, not `export *`: `wrangler types` types the Durable Object bindings from the names the
// main module exports.
export { ShareLinkObject, StreamApiBudget, UserQuota } from "./app/objects";
export default handler;
