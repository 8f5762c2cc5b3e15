import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.APP_DB, env.APP_MIGRATIONS);
await applyD1Migrations(env.GATEWAY_DB, env.GATEWAY_MIGRATIONS);
