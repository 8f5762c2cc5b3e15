// `npm run test:library`: README's library integration followed literally, as a new integrator
// would, in a fresh app outside this repository: `npm pack` here, then in a temporary app (a
// plain Hono Worker with its own wrangler.toml) README's ```sh app block runs with bash and its
// ```ts app block becomes src/index.ts, which must type-check. Then the emulator and the app
// run under `wrangler dev` (ports 8788 and 8787, which must be free) and are tried from outside:
// a buyer gets a real MP4 through the app's own route, someone who bought nothing is refused,
// another site cannot act with the buyer's cookie, and the audit event reaches the app's D1
// through its queue. The servers are stopped by process group and the directory removed,
// whatever happens.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OFFLINE_ENV, startServer, stopAll, waitFor } from "./lib/servers.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const APP = "http://localhost:8787";
const EMULATOR = "http://localhost:8788";
const VIDEO = "c0ffee00000000000000000000000001";
/** What README promises the integrator writes by hand: the Worker and their session secret. */
const MAX_HAND_WRITTEN_LINES = 30;

const readme = readFileSync(join(root, "README.md"), "utf8");
const block = (info) => {
  const found = [...readme.matchAll(new RegExp(`^( *)\`\`\`${info}\\n([\\s\\S]*?)^ *\`\`\``, "gm"))];
  if (found.length !== 1) throw new Error(`README.md must have exactly one \`\`\`${info} block (has ${found.length})`);
  const [, indent, body] = found[0];
  return body.split("\n").map((line) => line.slice(indent.length)).join("\n");
};
const commands = block("sh app");
const worker = block("ts app");
const handWritten = worker.split("\n").filter((line) => line.trim() !== "").length + 1;
if (handWritten > MAX_HAND_WRITTEN_LINES) throw new Error(`README's library snippet takes ${handWritten} hand-written lines; the promise is ${MAX_HAND_WRITTEN_LINES}`);

for (const url of [APP, EMULATOR]) {
  const taken = await fetch(url).then(async (res) => (await res.body?.cancel(), true), () => false);
  if (taken) throw new Error(`${url} is already taken: stop that server first`);
}

const work = mkdtempSync(join(tmpdir(), "sdg-library-"));
// Node 24 (this repository's `node` devDependency) first on PATH: npx, npm's scripts and
// wrangler in the app then run on it, as they would on an integrator's Node 22+.
const env = { ...OFFLINE_ENV, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
for (const name of Object.keys(env)) if (name.startsWith("npm_")) delete env[name];
const cleanUp = () => {
  stopAll();
  rmSync(work, { recursive: true, force: true });
};
process.once("exit", cleanUp);

const run = (command, args, cwd) => execFileSync(command, args, { cwd, env, stdio: ["ignore", "pipe", "inherit"] }).toString();

try {
  // The package where README's path expects it: beside the app, in a folder named like this repository.
  const packed = join(work, "stream-download-gateway");
  mkdirSync(packed);
  run("npm", ["pack", "--pack-destination", packed], root);

  // The integrator's app as it was: a Hono Worker with its own wrangler.toml and tsconfig.
  const app = join(work, "app");
  mkdirSync(join(app, "src"), { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }, null, 2));
  writeFileSync(join(app, "wrangler.toml"), 'name = "my-app"\nmain = "src/index.ts"\ncompatibility_date = "2026-11-09"\n');
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "es2024", lib: ["es2024"], module: "es2022", moduleResolution: "bundler", strict: true, skipLibCheck: true, noEmit: true, types: ["./worker-configuration.d.ts"] },
      include: ["src"],
    }),
  );

  console.log(`library: README's commands, in a fresh app (${app}):\n${commands}`);
  execFileSync("bash", ["-euo", "pipefail", "-c", commands], { cwd: app, env, stdio: "inherit" });
  writeFileSync(join(app, "src/index.ts"), worker);
  run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], app);
  console.log(`library: README's Worker (${handWritten} hand-written lines with the session secret) type-checks`);

  const quiet = { output: process.env.E2E_LOGS ? "all" : "none", cwd: app, env };
  const servers = [
    startServer("emulator", ["npx", "stream-download-gateway", "emulator"], quiet),
    startServer("app", ["npx", "wrangler", "dev", "--show-interactive-dev-session=false"], quiet),
  ];
  try {
    await Promise.all([waitFor(`${EMULATOR}/__emulator/faults`), waitFor(`${APP}/downloads/healthz`)]);
  } catch (error) {
    for (const server of servers) console.error(server.recentOutput());
    throw error;
  }

  const secret = /^SESSION_SECRET=(.+)$/m.exec(readFileSync(join(app, ".dev.vars"), "utf8"))?.[1];
  if (!secret) throw new Error(".dev.vars has no SESSION_SECRET");
  // Hono's signed cookie, as the app's own login would set it.
  const session = (user) => `session=${encodeURIComponent(`${user}.${createHmac("sha256", secret).update(user).digest("base64")}`)}`;
  const expect = (what, ok, detail) => {
    if (!ok) throw new Error(`library: ${what}: ${detail}`);
    console.log(`library: ${what}`);
  };
  const download = `${APP}/downloads/v1/videos/${VIDEO}/download`;

  const granted = await fetch(download, { headers: { cookie: session("alice") }, redirect: "manual" });
  expect("the buyer's download answers 302", granted.status === 302, `${granted.status} ${await granted.text()}`);
  const file = new Uint8Array(await (await fetch(new URL(granted.headers.get("location"), APP))).arrayBuffer());
  expect("and its Location serves an MP4", new TextDecoder().decode(file.slice(4, 8)) === "ftyp", `${file.length} bytes, not an MP4`);

  const refused = await fetch(download, { headers: { cookie: session("bob") }, redirect: "manual" });
  expect("someone who bought nothing is refused (403)", refused.status === 403, String(refused.status));
  const anonymous = await fetch(download, { redirect: "manual" });
  expect("nobody signed in is refused (401)", anonymous.status === 401, String(anonymous.status));
  const forged = await fetch(`${APP}/downloads/v1/videos/${VIDEO}/download-url`, {
    method: "POST",
    headers: { cookie: session("alice"), origin: "https://evil.example", "content-type": "text/plain" },
    body: "{}",
  });
  expect("another site's POST with the buyer's cookie is refused (403)", forged.status === 403 && (await forged.json()).type === "cross-site-request", String(forged.status));

  // The grant's audit event reaches the app's D1 through the audit queue and the Worker's queue handler.
  const deadline = Date.now() + 20_000;
  let rows = 0;
  while (rows < 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const out = run("npx", ["wrangler", "d1", "execute", "DB", "--local", "--json", "--command", "SELECT count(*) AS n FROM audit_events"], app);
    rows = JSON.parse(out)[0].results[0].n;
  }
  expect("the grant's audit row is in the app's D1", rows === 1, `${rows} rows`);
  console.log("library: README's integration works in a fresh app");
} finally {
  cleanUp();
}
