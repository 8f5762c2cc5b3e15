// `npm run deploy`: checks what a production deployment needs, creates the audit queues that do
// not exist yet, applies the D1 migrations to the remote database, then deploys. `--dry-run` only
// checks and prints the commands; `--env NAME` deploys wrangler.toml's [env.NAME] (e.g. staging).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "smol-toml";
import { auditQueueNames, gatewayQueueNames, isQueueName, queuesNamedIn, queuesOf } from "../src/config/wiring-names.ts";

const HELP = `npm run deploy -- [options]

Checks wrangler.toml for production, creates the audit queues that do not exist yet, applies the
D1 migrations to the remote database, then runs wrangler deploy (docs/operations.md › Deploy).

  --dry-run    only check and print the commands
  --env NAME   deploy wrangler.toml's [env.NAME] (e.g. staging) instead of the top level
  --help       this text`;

const PLACEHOLDER_DB = "00000000-0000-0000-0000-000000000000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DELIVERY_BASE = /^https:\/\/customer-[a-z0-9]+\.cloudflarestream\.com$/;

const isTable = (value) => typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * Problems with wrangler.toml for production, as sentences; empty when it is ready. The TOML is
 * parsed, and the top level and every [env.<name>] are checked (only [env.<envName>] when one is
 * named, as `npm run deploy -- --env NAME` does); an environment's vars are its own
 * over the top level's (wrangler does not inherit [vars] into environments, but a value that would
 * be unsafe if it did is refused all the same).
 */
export function deploymentProblems(toml, envName) {
  let config;
  try {
    config = parse(toml);
  } catch (error) {
    const reason = String(error instanceof Error ? error.message : error).split("\n")[0];
    return [`wrangler.toml is not valid TOML (${reason}).`];
  }
  const problems = [];
  if (config.vars !== undefined && !isTable(config.vars)) problems.push("[vars] must be a table.");
  const topVars = isTable(config.vars) ? config.vars : {};
  // Deploying one environment checks that one: a staging deployment may come before production's settings.
  if (envName === undefined) problems.push(...scopeProblems("", config, topVars, topVars));
  if (config.env !== undefined && !isTable(config.env)) problems.push("env must be a table of [env.<name>] sections.");
  const environments = Object.entries(isTable(config.env) ? config.env : {}).filter(([name]) => envName === undefined || name === envName);
  if (envName !== undefined && environments.length === 0) problems.push(`wrangler.toml has no [env.${envName}].`);
  for (const [name, env] of environments) {
    const where = `[env.${name}] `;
    if (!isTable(env)) {
      problems.push(`${where}must be a table.`);
      continue;
    }
    if (env.vars !== undefined && !isTable(env.vars)) problems.push(`${where}vars must be a table.`);
    const envVars = isTable(env.vars) ? env.vars : {};
    problems.push(...scopeProblems(where, env, { ...topVars, ...envVars }, envVars));
  }
  return problems;
}

/**
 * The problems of one deployment target: the top level (where "") or one environment; `vars` are
 * its own over the top level's (an unsafe value is refused either way), `ownVars` its own alone.
 */
function scopeProblems(where, section, vars, ownVars) {
  const problems = [];
  const databases = Array.isArray(section.d1_databases) ? section.d1_databases : [];
  const ids = databases.filter(isTable).map((db) => String(db.database_id ?? "").trim());
  if (ids.some((id) => id === PLACEHOLDER_DB || !UUID.test(id))) {
    problems.push(`${where}database_id is the placeholder: run \`npx wrangler d1 create stream-download-gateway\` and put its id in wrangler.toml.`);
  }
  const delivery = vars.STREAM_DELIVERY_BASE;
  if (typeof delivery !== "string" || !DELIVERY_BASE.test(delivery.trim())) {
    problems.push(`${where}STREAM_DELIVERY_BASE must be your https://customer-<code>.cloudflarestream.com (Stream dashboard).`);
  }
  if (vars.DEMO_ENABLED !== undefined && String(vars.DEMO_ENABLED).trim().toLowerCase() === "true") {
    problems.push(`${where}DEMO_ENABLED is true: the demo's sign-in must never be deployed.`);
  }
  const apiBase = vars.STREAM_API_BASE;
  if (apiBase !== undefined && typeof apiBase !== "string") {
    problems.push(`${where}STREAM_API_BASE must be a string.`);
  } else if (apiBase !== undefined && apiBase.trim().toLowerCase().startsWith("http:")) {
    problems.push(`${where}STREAM_API_BASE points at a local emulator.`);
  }
  problems.push(...wiringProblems(where, section, ownVars));
  return problems;
}

/**
 * The Worker takes a batch only from its own queues (src/config/wiring-names.ts): the audit queue its
 * AUDIT_QUEUE sends to, that queue's shards (-2 … -4) and dead-letter queue (-dlq), and Stream's
 * events queue, named by the target's own AUDIT_QUEUE_NAME and STREAM_EVENTS_QUEUE_NAME (wrangler
 * does not inherit [vars]) where they are not the defaults. A consumer of any other queue would
 * have its batches refused; an audit queue nobody consumes would keep its audit trail unwritten.
 */
function wiringProblems(where, section, ownVars) {
  const named = queuesNamedIn(ownVars);
  const names = queuesOf(named);
  const { audit, deadLetter } = names;
  const own = gatewayQueueNames(names);
  const problems = [];
  // A name Cloudflare refuses would leave every request of the Worker answered as misconfigured.
  const notQueues = (variable, queues) => {
    const refused = queues.filter((queue) => !isQueueName(queue));
    return refused.length === 0 ? [] : [`${where}${variable} names queues Cloudflare refuses (${refused.join(", ")}): lowercase letters, digits and dashes, at most 63.`];
  };
  if (named.audit !== undefined) problems.push(...notQueues("AUDIT_QUEUE_NAME", [...auditQueueNames(names), deadLetter]));
  if (named.streamEvents !== undefined) problems.push(...notQueues("STREAM_EVENTS_QUEUE_NAME", [names.streamEvents]));
  const queues = isTable(section.queues) ? section.queues : {};
  const list = (value) => (Array.isArray(value) ? value.filter(isTable) : []);
  const consumers = list(queues.consumers);
  const consumed = (queue) => consumers.some((consumer) => consumer.queue === queue);
  for (const producer of list(queues.producers)) {
    const shard = /^AUDIT_QUEUE(?:_([234]))?$/.exec(String(producer.binding ?? ""));
    if (shard === null) continue;
    const expected = shard[1] === undefined ? audit : `${audit}-${shard[1]}`;
    if (producer.queue !== expected) {
      const fix = shard[1] === undefined ? `set AUDIT_QUEUE_NAME = "${producer.queue}" in its vars` : `send it to ${expected}`;
      problems.push(`${where}${producer.binding} sends to ${producer.queue}, but the gateway takes ${expected} as that audit queue: ${fix}.`);
    } else if (!consumed(expected)) {
      problems.push(`${where}nothing consumes ${expected}, which ${producer.binding} sends to: add its [[queues.consumers]] (docs/operations.md › Wiring).`);
    }
  }
  for (const consumer of consumers) {
    if (typeof consumer.queue === "string" && !own.includes(consumer.queue)) {
      problems.push(`${where}consumes ${consumer.queue}, which is not one of the gateway's queues (${own.join(", ")}): name it with AUDIT_QUEUE_NAME or STREAM_EVENTS_QUEUE_NAME in its vars.`);
    }
    if (consumer.queue === audit && consumer.dead_letter_queue !== deadLetter) {
      problems.push(`${where}the consumer of ${audit} must dead-letter into ${deadLetter}, the queue the gateway retries from.`);
    }
  }
  if (consumed(audit) && !consumed(deadLetter)) problems.push(`${where}nothing consumes ${deadLetter}: add its [[queues.consumers]] (docs/operations.md › Wiring).`);
  return problems;
}

/** The queues a deployment target (the top level, or one [env.<name>]) produces to, consumes and dead-letters into. */
export function queueNames(section) {
  const queues = isTable(section.queues) ? section.queues : {};
  const list = (value) => (Array.isArray(value) ? value.filter(isTable) : []);
  const names = [
    ...list(queues.producers).map((p) => p.queue),
    ...list(queues.consumers).flatMap((c) => [c.queue, c.dead_letter_queue]),
  ];
  return [...new Set(names.filter((name) => typeof name === "string" && name !== ""))];
}

/**
 * What `npm run deploy [-- --env NAME]` runs, in order: the target's queues (wrangler does not
 * inherit bindings into an environment, so a staging [env.staging] names its own), then the remote
 * migrations and the deploy. Throws for an environment wrangler.toml does not have.
 */
export function deploymentPlan(toml, envName) {
  const config = parse(toml);
  const section = envName === undefined ? config : isTable(config.env) ? config.env[envName] : undefined;
  if (!isTable(section)) throw new Error(`wrangler.toml has no [env.${envName}].`);
  // Named, so that a wrangler.json(c) beside it (which wrangler would prefer) is never what deploys.
  const target = ["-c", "wrangler.toml", ...(envName === undefined ? [] : ["--env", envName])];
  return {
    // The longest retention Queues allows (14 days), so that a long D1 outage loses no audit event.
    queues: queueNames(section).map((queue) => ({ queue, create: ["wrangler", "queues", "create", queue, "--message-retention-period-secs", "1209600"] })),
    steps: [
      ["wrangler", "d1", "migrations", "apply", "DB", "--remote", ...target],
      ["wrangler", "deploy", ...target],
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let values;
  try {
    ({ values } = parseArgs({ options: { "dry-run": { type: "boolean" }, env: { type: "string" }, help: { type: "boolean" } } }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  // wrangler reads CLOUDFLARE_ENV when --env is absent: the checks and the queues would then be
  // another environment's than what deploys.
  const cloudflareEnv = process.env.CLOUDFLARE_ENV || undefined;
  if (cloudflareEnv !== values.env) {
    console.error(`CLOUDFLARE_ENV is ${cloudflareEnv ?? "unset"} but --env is ${values.env ?? "absent"}: give both the same environment, or neither.`);
    process.exit(2);
  }
  const dryRun = values["dry-run"] === true;
  const toml = readFileSync("wrangler.toml", "utf8");
  const problems = deploymentProblems(toml, values.env);
  if (problems.length > 0) {
    console.error(`Not ready to deploy:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(2);
  }
  let plan;
  try {
    plan = deploymentPlan(toml, values.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  }
  // wrangler deploy refuses a Worker bound to a queue that does not exist. Queues are per account,
  // not per environment: only their names tell staging's from production's.
  for (const { queue, create } of plan.queues) {
    console.log(`$ npx wrangler queues info ${queue} || npx ${create.join(" ")}`);
    if (dryRun) continue;
    try {
      execFileSync("npx", ["wrangler", "queues", "info", queue], { stdio: "ignore" });
    } catch {
      execFileSync("npx", create, { stdio: "inherit" });
    }
  }
  for (const step of plan.steps) {
    console.log(`$ npx ${step.join(" ")}`);
    if (!dryRun) execFileSync("npx", step, { stdio: "inherit" });
  }
  if (!dryRun) console.log("Deployed. Secrets: see docs/operations.md › Deploy (npm run setup stores the Stream ones).");
}
