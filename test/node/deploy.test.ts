// The deploy preflight refuses what would make a broken or unsafe production deployment.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { deploymentProblems } from "../../scripts/deploy.mjs";

const committed = readFileSync("wrangler.toml", "utf8");
const ready = committed
  .replace("00000000-0000-0000-0000-000000000000", "4f1c2a0e-1111-2222-3333-444455556666")
  .replace('STREAM_DELIVERY_BASE = ""', 'STREAM_DELIVERY_BASE = "https://customer-f33zs165nr7gyfy4.cloudflarestream.com"');

test("the committed wrangler.toml is not deployable as is: placeholder database and no delivery base", () => {
  const problems = deploymentProblems(committed);
  expect(problems.some((p) => p.includes("database_id"))).toBe(true);
  expect(problems.some((p) => p.includes("STREAM_DELIVERY_BASE"))).toBe(true);
});

test("a configured wrangler.toml passes", () => {
  expect(deploymentProblems(ready)).toEqual([]);
});

test("the demo and a local emulator are never deployed", () => {
  const withDemo = /^DEMO_ENABLED\s*=/m.test(ready)
    ? ready.replace(/^DEMO_ENABLED\s*=.*$/m, 'DEMO_ENABLED = "true"')
    : ready.replace("[vars]\n", '[vars]\nDEMO_ENABLED = "true"\n');
  expect(deploymentProblems(withDemo).join()).toContain("DEMO_ENABLED");
  expect(deploymentProblems(ready.replace('STREAM_API_BASE = "https://api.cloudflare.com/client/v4"', 'STREAM_API_BASE = "http://localhost:8788/client/v4"')).join()).toContain(
    "emulator",
  );
});
