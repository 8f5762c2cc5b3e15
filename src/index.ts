// The deployed reference Worker: the gateway and the download-button helper (worker.ts).
import { assetRoutes } from "./demo/assets";
import { referenceWorker } from "./worker";

const { app, handler } = referenceWorker([assetRoutes()]);

/** The Hono app itself, for tests that inspect its routes (openapi.test.ts) or mount it. */
export { app };
export { gatewayOf } from "./worker";
export * from "./objects";
export default handler;
