// The package's command line (package.json "bin"), bundled into dist/cli.mjs by `npm run build`:
// `init` wires the gateway into an app's wrangler config, `emulator` runs the local Stream.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EMULATOR_HELP, runEmulator } from "./emulator.mjs";
import { INIT_HELP, runInit } from "./init.mjs";

const HELP = `npx stream-download-gateway <command>

  init        add the gateway's bindings, queues, Durable Objects, crons and D1 migrations to
              this app's wrangler config, and .dev.vars for the local emulator
  emulator    run the local Stream emulator (http://localhost:8788)

${INIT_HELP}
${EMULATOR_HELP}`;

// Beside this file in the package: dist/cli.mjs, dist/emulator/.
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const io = { cwd: process.cwd(), out: process.stdout };

const [command, ...rest] = process.argv.slice(2);
let code;
switch (command) {
  case "init": {
    const devAccount = JSON.parse(readFileSync(new URL("./emulator/dev-account.json", import.meta.url), "utf8"));
    code = await runInit(rest, { ...io, devAccount });
    break;
  }
  case "emulator":
    code = await runEmulator(rest, { ...io, packageDir });
    break;
  case "help":
  case "--help":
  case "-h":
    process.stdout.write(HELP);
    code = 0;
    break;
  default:
    process.stdout.write(`${command === undefined ? "" : `unknown command: ${command}\n\n`}${HELP}`);
    code = 2;
}
process.exitCode = code;
