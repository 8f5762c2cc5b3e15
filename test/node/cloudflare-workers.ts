// `cloudflare:workers` exists only inside workerd. The Node tests that load the gateway's
// modules to inspect them (openapi.test.ts) never run a Durable Object, so its base class is
// enough for the modules to load.
export class DurableObject {}
export class WorkerEntrypoint {}
