// `npx stream-download-gateway emulator`: the local Stream emulator the package ships (dist/emulator/,
// the same Worker this repository's `npm run dev` runs), under the app's own wrangler, so that an
// app mounting the library runs fully offline: its `.dev.vars` (written by `init`) point the
// gateway at it. Its state lives in the app's .wrangler/, never in node_modules.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

export const EMULATOR_HELP = `npx stream-download-gateway emulator [--port 8788]

Runs the local Cloudflare Stream emulator (API and delivery host, with demo videos) under your
app's wrangler, at http://localhost:PORT; its state is kept in .wrangler/stream-emulator.
\`init\` wrote .dev.vars for it at the default port. Ctrl-C stops it.
`;

/** Wrangler 4 runs on Node 22 or later. */
export function nodeTooOld(version = process.versions.node) {
  return Number(version.split(".")[0]) < 22;
}

export const NODE_HINT =
  "wrangler needs Node 22 or later. Install it, or add the `node` package as a devDependency (npm i -D node@24): npm scripts and npx then run on it, as this package's own repository does.";

/**
 * @param {string[]} argv
 * @param {{ cwd: string, out: { write(text: string): unknown }, packageDir: string }} io
 * @returns {Promise<number>}
 */
export async function runEmulator(argv, { cwd, out, packageDir }) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { port: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (error) {
    out.write(`${error.message}\n\n${EMULATOR_HELP}`);
    return 2;
  }
  if (values.help) {
    out.write(EMULATOR_HELP);
    return 0;
  }
  const port = Number(values.port ?? 8788);
  if (!Number.isInteger(port) || port < 1 || port > 64535) {
    out.write(`--port must be a port number\n\n${EMULATOR_HELP}`);
    return 2;
  }
  if (nodeTooOld()) {
    out.write(`${NODE_HINT}\n`);
    return 1;
  }
  let wrangler;
  try {
    // Its "exports" hide bin/: found beside its package.json.
    wrangler = join(dirname(createRequire(join(cwd, "package.json")).resolve("wrangler/package.json")), "bin/wrangler.js");
  } catch {
    out.write("The emulator runs under your app's wrangler, which is not installed here: npm i -D wrangler\n");
    return 1;
  }
  const origin = `http://localhost:${port}`;
  const args = [
    wrangler, "dev",
    "-c", join(packageDir, "dist/emulator/wrangler.toml"),
    "--port", String(port),
    // Beside the app's own wrangler dev, whose inspector is on 9229.
    "--inspector-port", String(port + 1000),
    "--var", `DELIVERY_BASE:${origin}`,
    "--persist-to", join(cwd, ".wrangler/stream-emulator"),
    "--show-interactive-dev-session=false",
  ];
  out.write(`Stream emulator at ${origin} (demo video c0ffee00000000000000000000000001: "Launch keynote", its MP4 ready)\n`);
  const child = spawn(process.execPath, args, {
    cwd,
    stdio: "inherit",
    // Offline: no metrics, and no fetch of Request.cf from Cloudflare.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    detached: true,
  });
  // wrangler's workerd lives in the child's process group: stopped with it, never left behind.
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 0)));
}
