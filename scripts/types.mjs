// Generates (or, with --check, verifies) the `Env` types of both Workers from their wrangler
// configs, so that the types can never drift from wrangler.toml.
import { execFileSync } from "node:child_process";

const check = process.argv.includes("--check") ? ["--check"] : [];
const workers = [
  ["worker-configuration.d.ts", "wrangler.toml", "Env"],
  ["emulator/worker-configuration.d.ts", "emulator/wrangler.toml", "EmulatorEnv"],
];
for (const [out, config, envInterface] of workers) {
  execFileSync(
    "npx",
    ["wrangler", "types", out, "-c", config, "--strict-vars", "false", "--env-interface", envInterface, ...check],
    { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
}
