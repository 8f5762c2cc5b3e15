// `npm run deploy`: checks what a production deployment needs, creates the audit queues that do
// not exist yet, applies the D1 migrations to the remote database, then deploys. `--dry-run` only
// checks and prints the commands; `--env NAME` deploys wrangler.toml's [env.NAME] (e.g. staging).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "smol-toml";

const PLACEHOLDER_DB = "00000000-0000-0000-0000-000000000000";
const DELIVERY_BASE = /^https:\/\/customer-[a-z0-9]+\.cloudflarestream\.com$/;

const isTable = (value) => typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * Problems with wrangler.toml for production, as sentences; empty when it is ready. The TOML is
 * parsed, and the top level and every [env.<name>] are checked; an environment's vars are its own
 * over the top level's (wrangler does not inherit [vars] into environments, but a value that would
 * be unsafe if it did is refused all the same).
 */
export function deploymentProblems(toml) {
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
  problems.push(...scopeProblems("", config, topVars));
  if (config.env !== undefined && !isTable(config.env)) problems.push("env must be a table of [env.<name>] sections.");
  for (const [name, env] of Object.entries(isTable(config.env) ? config.env : {})) {
    const where = `[env.${name}] `;
    if (!isTable(env)) {
      problems.push(`${where}must be a table.`);
      continue;
    }
    if (env.vars !== undefined && !isTable(env.vars)) problems.push(`${where}vars must be a table.`);
    problems.push(...scopeProblems(where, env, { ...topVars, ...(isTable(env.vars) ? env.vars : {}) }));
  }
  return problems;
}

/** The problems of one deployment target: the top level (where "") or one environment. */
function scopeProblems(where, section, vars) {
  const problems = [];
  const databases = Array.isArray(section.d1_databases) ? section.d1_databases : [];
  if (databases.some((db) => isTable(db) && String(db.database_id ?? "").trim() === PLACEHOLDER_DB)) {
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
  const target = envName === undefined ? [] : ["--env", envName];
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
  const { values } = parseArgs({ options: { "dry-run": { type: "boolean" }, env: { type: "string" } } });
  const dryRun = values["dry-run"] === true;
  const toml = readFileSync("wrangler.toml", "utf8");
  const problems = deploymentProblems(toml);
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
