// The deploy preflight refuses what would make a broken or unsafe production deployment.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { parse } from "smol-toml";
import { deploymentPlan, deploymentProblems, queueNames } from "../../scripts/deploy.mjs";

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

// Bypasses of the old line-by-line regexes: the preflight parses the TOML and checks every environment.
const withDemoValue = (value: string) => ready.replace(/^DEMO_ENABLED\s*=.*$/m, `DEMO_ENABLED = ${value}`);
const productionDelivery = 'STREAM_DELIVERY_BASE = "https://customer-f33zs165nr7gyfy4.cloudflarestream.com"';

test("DEMO_ENABLED is refused however TOML spells true", () => {
  for (const value of ["'true'", "true", '"TRUE"', '" true "', "'''true'''"]) {
    expect(deploymentProblems(withDemoValue(value)).join(), value).toContain("DEMO_ENABLED is true");
  }
  expect(deploymentProblems(withDemoValue("false"))).toEqual([]);
  expect(deploymentProblems(withDemoValue('"false"'))).toEqual([]);
});

test("an environment that turns the demo on is refused, and named", () => {
  const problems = deploymentProblems(`${ready}\n[env.production.vars]\nDEMO_ENABLED = "true"\n`);
  expect(problems).toEqual(["[env.production] DEMO_ENABLED is true: the demo's sign-in must never be deployed."]);
  const boolean = deploymentProblems(`${ready}\n[env.staging]\nvars = { DEMO_ENABLED = true, ${productionDelivery} }\n`);
  expect(boolean.join()).toContain("[env.staging] DEMO_ENABLED");
});

test("an environment's own STREAM_DELIVERY_BASE and STREAM_API_BASE are checked; otherwise the top level's", () => {
  // Inherits the top level's (configured) delivery base: fine.
  expect(deploymentProblems(`${ready}\n[env.production.vars]\nAUTH_ISSUER = "https://id.example"\n`)).toEqual([]);
  const emptyDelivery = deploymentProblems(`${ready}\n[env.production.vars]\nSTREAM_DELIVERY_BASE = ""\n`);
  expect(emptyDelivery).toEqual([expect.stringMatching(/^\[env\.production\] STREAM_DELIVERY_BASE must be/)]);
  const emulator = deploymentProblems(`${ready}\n[env.production.vars]\nSTREAM_API_BASE = "http://localhost:8788/client/v4"\n`);
  expect(emulator).toEqual(["[env.production] STREAM_API_BASE points at a local emulator."]);
  // The top level's unset delivery base is a problem there, but an environment may set its own.
  const topUnset = committed.replace("00000000-0000-0000-0000-000000000000", "4f1c2a0e-1111-2222-3333-444455556666");
  expect(deploymentProblems(`${topUnset}\n[env.production.vars]\n${productionDelivery}\n`)).toEqual([
    expect.stringMatching(/^STREAM_DELIVERY_BASE must be/),
  ]);
  // Single quotes or a bare key no longer hide an emulator URL.
  expect(deploymentProblems(ready.replace('STREAM_API_BASE = "https://api.cloudflare.com/client/v4"', "STREAM_API_BASE = 'HTTP://127.0.0.1:8788'")).join()).toContain(
    "emulator",
  );
});

test("a placeholder D1 database in an environment is refused, and named", () => {
  const env = `${ready}\n[env.production]\n[[env.production.d1_databases]]\nbinding = "DB"\ndatabase_name = "sdg"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\n`;
  expect(deploymentProblems(env)).toEqual([expect.stringMatching(/^\[env\.production\] database_id is the placeholder/)]);
  // A placeholder only mentioned in a comment is not a database.
  expect(deploymentProblems(`${ready}\n# was 00000000-0000-0000-0000-000000000000\n`)).toEqual([]);
});

test("a clean production environment passes", () => {
  const production = `${ready}
[env.production]
name = "stream-download-gateway-production"

[env.production.vars]
STREAM_API_BASE = "https://api.cloudflare.com/client/v4"
${productionDelivery}
DEMO_ENABLED = "false"

[[env.production.d1_databases]]
binding = "DB"
database_name = "stream-download-gateway-production"
database_id = "9a8b7c6d-1111-2222-3333-444455556666"
migrations_dir = "migrations"
`;
  expect(deploymentProblems(production)).toEqual([]);
});

test("a wrangler.toml that is not TOML is reported, not thrown", () => {
  const problems = deploymentProblems(`${ready}\n[env.production\nDEMO_ENABLED = "true"\n`);
  expect(problems).toEqual([expect.stringMatching(/^wrangler\.toml is not valid TOML \(.+\)\.$/)]);
  expect(problems[0]).not.toContain("\n");
});

test("the queues deploy creates when missing: the audit queue, its dead-letter queue and the Stream events queue, each once", () => {
  expect(queueNames(parse(committed))).toEqual(["stream-download-audit", "stream-download-audit-dlq", "stream-download-stream-events"]);
  expect(queueNames(parse('name = "x"'))).toEqual([]);
});

/**
 * docs/operations.md's [env.staging] after a wrangler.toml `top`, as that page says to fill it in:
 * its database id, the top level's [vars] copied, STREAM_DELIVERY_BASE pointed at staging's, its
 * queues named as the page names them.
 */
function withStaging(top: string): string {
  const doc = readFileSync("docs/operations.md", "utf8");
  const section = doc.slice(doc.indexOf("### A staging environment"));
  const block = /```toml\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("docs/operations.md › A staging environment has no toml block");
  const vars = (/\n\[vars\]\n([\s\S]*?)\n\[/.exec(top)?.[1] ?? "").replace(
    /^STREAM_DELIVERY_BASE = .*$/m,
    'STREAM_DELIVERY_BASE = "https://customer-st4g1ng0000000000.cloudflarestream.com"',
  );
  const staging = block.replace("<npx wrangler d1 create stream-download-gateway-staging>", "9a8b7c6d-1111-2222-3333-444455556666");
  const queueNames = [...section.matchAll(/`((?:AUDIT|STREAM_EVENTS)_QUEUE_NAME = "[a-z0-9-]+")`/g)].map((m) => m[1]);
  if (queueNames.length !== 2) throw new Error("docs/operations.md › A staging environment names its two queues");
  return `${top}\n${staging}\n[env.staging.vars]\n${vars}\n${queueNames.join("\n")}\n`;
}

test("docs/operations.md's staging environment passes the checks, binds what the top level binds, and deploys with --env staging", () => {
  const toml = withStaging(ready);
  expect(deploymentProblems(toml)).toEqual([]);
  const config = parse(toml) as Record<string, any>;
  const staging = config.env.staging;
  const names = (section: Record<string, any>) => ({
    d1: section.d1_databases.map((d: { binding: string }) => d.binding),
    limits: section.ratelimits.map((r: { name: string }) => r.name).sort(),
    objects: section.durable_objects.bindings.map((b: { name: string; class_name: string }) => `${b.name}:${b.class_name}`),
    producers: section.queues.producers.map((p: { binding: string }) => p.binding),
    consumers: section.queues.consumers.length,
    vars: Object.keys(section.vars).sort(),
  });
  // Staging's vars are the top level's, and its queues' names.
  expect(names(staging)).toEqual({ ...names(config), vars: [...names(config).vars, "AUDIT_QUEUE_NAME", "STREAM_EVENTS_QUEUE_NAME"].sort() });
  const plan = deploymentPlan(toml, "staging");
  expect(plan.queues.map((q) => q.queue)).toEqual(["stream-download-audit-staging", "stream-download-audit-staging-dlq", "stream-download-stream-events-staging"]);
  expect(plan.steps).toEqual([
    ["wrangler", "d1", "migrations", "apply", "DB", "--remote", "-c", "wrangler.toml", "--env", "staging"],
    ["wrangler", "deploy", "-c", "wrangler.toml", "--env", "staging"],
  ]);
  expect(deploymentPlan(toml, undefined).steps[1]).toEqual(["wrangler", "deploy", "-c", "wrangler.toml"]);
  expect(() => deploymentPlan(toml, "prod")).toThrow("wrangler.toml has no [env.prod].");
});

test("--env staging checks staging only: it deploys before production's settings are filled in, and is refused for its own", () => {
  const beforeProduction = withStaging(committed);
  expect(deploymentProblems(beforeProduction, "staging")).toEqual([]);
  expect(deploymentProblems(beforeProduction).join()).toContain("database_id is the placeholder");
  expect(deploymentProblems(beforeProduction, "prod")).toEqual(["wrangler.toml has no [env.prod]."]);
  // The page's snippet pasted as is, its database id still the placeholder text.
  const pasted = beforeProduction.replace("9a8b7c6d-1111-2222-3333-444455556666", "<npx wrangler d1 create stream-download-gateway-staging>");
  expect(deploymentProblems(pasted, "staging").join()).toContain("[env.staging] database_id is the placeholder");
  const [top, stagingVars = ""] = beforeProduction.split("[env.staging.vars]");
  const demoInStaging = `${top}[env.staging.vars]${stagingVars.replace('DEMO_ENABLED = "false"', 'DEMO_ENABLED = "true"')}`;
  expect(deploymentProblems(demoInStaging, "staging")).toEqual(["[env.staging] DEMO_ENABLED is true: the demo's sign-in must never be deployed."]);
});

test("a consumer of a queue the gateway does not take as its own is refused, and so is an AUDIT_QUEUE the gateway does not consume", () => {
  const renamed = ready.replaceAll("stream-download-audit", "downloads-audit");
  const problems = deploymentProblems(renamed);
  expect(problems.some((p) => p.includes("AUDIT_QUEUE sends to downloads-audit") && p.includes('AUDIT_QUEUE_NAME = "downloads-audit"'))).toBe(true);
  expect(problems.some((p) => p.includes("consumes downloads-audit-dlq"))).toBe(true);
  expect(deploymentProblems(renamed.replace("[vars]\n", '[vars]\nAUDIT_QUEUE_NAME = "downloads-audit"\n'))).toEqual([]);
});

test("a queue name Cloudflare refuses, from AUDIT_QUEUE_NAME or STREAM_EVENTS_QUEUE_NAME, names the variable", () => {
  const named = (vars: string) => ready.replace("[vars]\n", `[vars]\n${vars}\n`);
  expect(deploymentProblems(named('AUDIT_QUEUE_NAME = "Shop_Audit"'))).toContain(
    "AUDIT_QUEUE_NAME names queues Cloudflare refuses (Shop_Audit, Shop_Audit-2, Shop_Audit-3, Shop_Audit-4, Shop_Audit-dlq): lowercase letters, digits and dashes, at most 63.",
  );
  // 60 characters are a name, but not with -dlq after them.
  const long = "a".repeat(60);
  expect(deploymentProblems(named(`AUDIT_QUEUE_NAME = "${long}"`)).join("\n")).toContain(`AUDIT_QUEUE_NAME names queues Cloudflare refuses (${long}-dlq)`);
  expect(deploymentProblems(named('STREAM_EVENTS_QUEUE_NAME = "stream events"'))).toContain(
    "STREAM_EVENTS_QUEUE_NAME names queues Cloudflare refuses (stream events): lowercase letters, digits and dashes, at most 63.",
  );
});

test("every audit queue the Worker sends to is consumed, dead-letters into its -dlq, and a shard sends to its own audit queue's shard", () => {
  const staging = withStaging(ready);
  const intoProduction = staging.replace('queue = "stream-download-audit-staging"\n', 'queue = "stream-download-audit-staging"\n\n[[env.staging.queues.producers]]\nbinding = "AUDIT_QUEUE_2"\nqueue = "stream-download-audit-2"\n');
  expect(deploymentProblems(intoProduction).some((p) => p.includes("AUDIT_QUEUE_2 sends to stream-download-audit-2") && p.includes("send it to stream-download-audit-staging-2"))).toBe(true);
  const unconsumed = ready.replace(/\[\[queues\.consumers\]\]\nqueue = "stream-download-audit"\n[^[]*/, "");
  expect(deploymentProblems(unconsumed).some((p) => p.includes("nothing consumes stream-download-audit,"))).toBe(true);
  const elsewhere = ready.replace('dead_letter_queue = "stream-download-audit-dlq"', 'dead_letter_queue = "somewhere-else"');
  expect(deploymentProblems(elsewhere).some((p) => p.includes("must dead-letter into stream-download-audit-dlq"))).toBe(true);
});

test("an environment's queues are named by its own vars: the top level's AUDIT_QUEUE_NAME is not inherited", () => {
  const named = ready.replaceAll("stream-download-audit", "downloads-audit").replace("[vars]\n", '[vars]\nAUDIT_QUEUE_NAME = "downloads-audit"\n');
  const withDefaultEnv = `${named}\n[env.other]\n[[env.other.d1_databases]]\nbinding = "DB"\ndatabase_id = "9a8b7c6d-1111-2222-3333-444455556666"\n[[env.other.queues.producers]]\nbinding = "AUDIT_QUEUE"\nqueue = "stream-download-audit"\n[[env.other.queues.consumers]]\nqueue = "stream-download-audit"\ndead_letter_queue = "stream-download-audit-dlq"\n[[env.other.queues.consumers]]\nqueue = "stream-download-audit-dlq"\n[env.other.vars]\nSTREAM_DELIVERY_BASE = "https://customer-0th3r000000000000.cloudflarestream.com"\n`;
  expect(deploymentProblems(withDefaultEnv)).toEqual([]);
});
