// `npm run build` (and `npm pack`, through prepack): the package an app installs, into dist/.
//   dist/index.js        src/library.ts: `streamDownloads`, `StreamApiBudget`; hono, jose, zod
//                        and cloudflare:workers stay imports (an app brings one Hono, and wrangler
//                        bundles the rest with the app)
//   dist/element.js      client/stream-download.ts: the browser helper, defines <stream-download>
//   dist/types/gateway/  declarations of ".", checked against @cloudflare/workers-types alone
//                        (tsconfig.build.json)
//   dist/types/element/  declarations of "./element" (client/tsconfig.build.json)
//   dist/cli.mjs         cli/main.mjs: `npx stream-download-gateway init | emulator` (Node), its
//                        TOML and JSONC parsers bundled in
//   dist/emulator/       the Stream emulator as one Worker script, its wrangler config and the
//                        dev-only account fixture (`emulator`, and `init`'s .dev.vars)
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bundleEmulator } from "../emulator/bundle.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const tscBin = createRequire(import.meta.url).resolve("typescript/bin/tsc");

const common = { absWorkingDir: root, bundle: true, format: "esm", target: "es2022", legalComments: "none", logLevel: "warning" };

/** Declarations of one tsconfig; its type errors fail the build. */
async function declarations(project) {
  try {
    await promisify(execFile)(process.execPath, [tscBin, "-p", project], { cwd: root });
  } catch (error) {
    throw new Error(`tsc -p ${project} failed:\n${error.stdout}${error.stderr}`);
  }
}

/**
 * tsc keeps the sources' extensionless relative imports, which only `"moduleResolution":
 * "bundler"` follows. With the `.js` a declaration file actually has beside it, apps on
 * `node16`/`nodenext` resolve them too (otherwise their types silently become `any`).
 */
async function addJsExtensions(directory) {
  const files = (await readdir(directory, { recursive: true })).filter((file) => file.endsWith(".d.ts"));
  await Promise.all(
    files.map(async (file) => {
      const path = join(directory, file);
      const text = await readFile(path, "utf8");
      const rewritten = text.replace(/(from |import\()"(\.\.?\/[^"]+)"/g, (_, keyword, specifier) => {
        const target = resolve(dirname(path), specifier);
        if (existsSync(`${target}.d.ts`)) return `${keyword}"${specifier}.js"`;
        if (existsSync(join(target, "index.d.ts"))) return `${keyword}"${specifier}/index.js"`;
        throw new Error(`${path}: no declaration file for ${specifier}`);
      });
      if (rewritten !== text) await writeFile(path, rewritten);
    }),
  );
}

/** The emulator's Worker for the app's own wrangler: the script and a config naming it. */
async function emulator() {
  const config = await readFile(join(root, "emulator/wrangler.toml"), "utf8");
  const dir = join(dist, "emulator");
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, "index.js"), await bundleEmulator()),
    // Media are inside the script already: no module rules; the rest of the config as it is.
    writeFile(join(dir, "wrangler.toml"), config.replace(/^main = .*$/m, 'main = "index.js"').replace(/\n\[\[rules\]\][\s\S]*$/, "\n")),
    copyFile(join(root, "emulator/fixtures/dev-account.json"), join(dir, "dev-account.json")),
  ]);
}

await rm(dist, { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: ["src/library.ts"],
    outfile: "dist/index.js",
    platform: "neutral",
    packages: "external",
    external: ["cloudflare:*"],
  }),
  build({ ...common, entryPoints: ["client/stream-download.ts"], outfile: "dist/element.js", platform: "browser" }),
  build({
    ...common,
    entryPoints: ["cli/main.mjs"],
    outfile: "dist/cli.mjs",
    platform: "node",
    target: "node20",
    // jsonc-parser's "main" is a UMD build whose inner requires esbuild cannot follow.
    mainFields: ["module", "main"],
    banner: { js: "#!/usr/bin/env node" },
  }),
  emulator(),
  declarations("tsconfig.build.json"),
  declarations("client/tsconfig.build.json"),
]);
await addJsExtensions(join(dist, "types"));
console.log("Built dist/index.js, dist/element.js and their declarations in dist/types/, dist/cli.mjs and dist/emulator/");
