// Generates (or, with --check, verifies) the `Env` types of the Workers from their wrangler
// configs, so that the types can never drift from wrangler.toml. Secret names come from the
// committed .dev.vars.example, never from a developer's own .dev.vars, so the output is the
// same on every machine and in CI.
import { execFileSync } from "node:child_process";

const check = process.argv.includes("--check") ? ["--check"] : [];
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const workers = [
  ["worker-configuration.d.ts", "wrangler.toml", "Env", ".dev.vars.example"],
  ["emulator/worker-configuration.d.ts", "emulator/wrangler.toml", "EmulatorEnv", "emulator/.dev.vars.example"],
];
for (const [out, config, envInterface, envFile] of workers) {
  execFileSync(
    "npx",
    ["wrangler", "types", out, "-c", config, "--strict-vars", "false", "--env-interface", envInterface, "--env-file", envFile, ...check],
    { stdio: "inherit", env },
  );
}
// The example app is a project of its own: run from its folder (with -c from here, wrangler
// leaves out its secrets and its Durable Object), with @cloudflare/workers-types as its runtime types.
execFileSync(
  "npx",
  ["wrangler", "types", "--cwd", "examples/existing-app", "--env-file", ".dev.vars.example", "--include-runtime", "false", "--strict-vars", "false", ...check],
  { stdio: "inherit", env },
);
