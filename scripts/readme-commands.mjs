// `npm run test:readme`: the README's commands, pasted in order, work literally. Starts
// `npm run dev` as a new user would (its own process group, ports 8787/8788, which must be free),
// waits until it has printed its URLs, then runs every ```sh block of README.md that does not
// start a server or the test suite (those are `npm run dev` itself and `npm test`, which CI runs)
// with bash -euo pipefail, in the repository, as one session: a block may use what an earlier one
// set. The blocks must download at least one file, and every file they download must be an MP4 or
// M4A; those files (and only those) are removed afterwards, and the dev servers are stopped by
// process group whatever happens.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, rmSync } from "node:fs";

const GATEWAY = "http://localhost:8787";
const EMULATOR = "http://localhost:8788";

const blocks = [...readFileSync("README.md", "utf8").matchAll(/^```sh\n([\s\S]*?)^```/gm)].map(([, body]) => body);
const runnable = blocks.filter((body) => !/\bnpm run dev\b|\bnpm test\b/.test(body));
if (runnable.length === 0) throw new Error("README.md has no shell block to run");

async function answers(url) {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

for (const url of [GATEWAY, EMULATOR]) {
  if (await answers(url)) throw new Error(`${url} is already taken: stop your own npm run dev first`);
}

/** The media files in the repository's root, where the README's downloads land. */
const media = () => readdirSync(".").filter((name) => /\.(mp4|m4a)$/.test(name));
const before = new Set(media());
// The ports this script checks, whatever the caller's environment says.
const dev = spawn("npm", ["run", "dev"], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PORT: "8787", EMULATOR_PORT: "8788" } });
let output = "";
dev.stdout.on("data", (chunk) => (output += chunk));
dev.stderr.on("data", (chunk) => (output += chunk));
const stop = () => {
  try {
    process.kill(-dev.pid, "SIGINT");
  } catch {
    // Already gone.
  }
};
process.once("exit", stop);

try {
  // `npm run dev` prints its summary once both Workers answer and the webhook is set.
  const deadline = Date.now() + 120_000;
  while (!output.includes("Press Ctrl-C")) {
    if (Date.now() > deadline) throw new Error(`npm run dev did not come up within 2 minutes:\n${output.slice(-3000)}`);
    if (dev.exitCode !== null) throw new Error(`npm run dev exited (${dev.exitCode}):\n${output.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const script = runnable.join("\n");
  console.log(`readme: running ${runnable.length} block(s) of README.md:\n${script}`);
  execFileSync("bash", ["-euo", "pipefail", "-c", script], { stdio: "inherit" });
  const downloaded = media().filter((name) => !before.has(name));
  if (downloaded.length === 0) throw new Error("the README's commands downloaded no MP4 or M4A file");
  for (const name of downloaded) {
    const box = readFileSync(name).subarray(4, 8).toString("latin1");
    if (box !== "ftyp") throw new Error(`${name} is not an MP4 or M4A (its first box is ${JSON.stringify(box)})`);
  }
  console.log(`readme: every command worked (downloaded ${downloaded.join(", ")})`);
} finally {
  stop();
  // Down before this script ends, so that whatever runs next finds the ports free.
  for (let i = 0; i < 30 && ((await answers(GATEWAY)) || (await answers(EMULATOR))); i++) await new Promise((resolve) => setTimeout(resolve, 500));
  for (const name of media()) if (!before.has(name)) rmSync(name, { force: true });
}
