// `npm run deploy`: checks what a production deployment needs, applies the D1 migrations to the
// remote database, then deploys. `--dry-run` only checks and prints the commands.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const PLACEHOLDER_DB = "00000000-0000-0000-0000-000000000000";

/** Problems with wrangler.toml for production, as sentences; empty when it is ready. */
export function deploymentProblems(toml) {
  const problems = [];
  const value = (name) => new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m").exec(toml)?.[1];
  if (toml.includes(PLACEHOLDER_DB)) {
    problems.push('database_id is the placeholder: run `npx wrangler d1 create stream-download-gateway` and put its id in wrangler.toml.');
  }
  const delivery = value("STREAM_DELIVERY_BASE") ?? "";
  if (!/^https:\/\/customer-[a-z0-9]+\.cloudflarestream\.com$/.test(delivery)) {
    problems.push("STREAM_DELIVERY_BASE must be your https://customer-<code>.cloudflarestream.com (Stream dashboard).");
  }
  if (value("DEMO_ENABLED") === "true") problems.push("DEMO_ENABLED is true: the demo's sign-in must never be deployed.");
  if (/^STREAM_API_BASE\s*=\s*"http:/m.test(toml)) problems.push("STREAM_API_BASE points at a local emulator.");
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dryRun = process.argv.includes("--dry-run");
  const problems = deploymentProblems(readFileSync("wrangler.toml", "utf8"));
  if (problems.length > 0) {
    console.error(`Not ready to deploy:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(2);
  }
  const steps = [
    ["wrangler", "d1", "migrations", "apply", "DB", "--remote"],
    ["wrangler", "deploy"],
  ];
  for (const step of steps) {
    console.log(`$ npx ${step.join(" ")}`);
    if (!dryRun) execFileSync("npx", step, { stdio: "inherit" });
  }
  if (!dryRun) console.log("Deployed. Secrets: see README › Deploy (npm run setup stores the Stream ones).");
}
