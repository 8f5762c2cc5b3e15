// The reference Worker in development (`npm run dev`, the tests, the browser suite): the deployed
// Worker plus the demo page and its sign-in (public/demo/, DEMO_ENABLED). `npm run deploy`
// deploys index.ts, so none of this reaches production.
import { assetRoutes } from "./demo/assets";
import { demoRoutes } from "./demo/routes";
import { referenceWorker } from "./worker";

const { app, handler } = referenceWorker([assetRoutes(), demoRoutes()]);

export { app };
export { gatewayOf } from "./worker";
export * from "./app/objects";
export default handler;
