// `npm run build` (and `npm pack`, through prepack): the package an app installs, into dist/.
//   dist/index.js        src/library.ts: `streamDownloads`, `StreamApiBudget`; hono, jose, zod
//                        and cloudflare:workers stay imports (an app brings one Hono, and wrangler
//                        bundles the rest with the app)
//   dist/element.js      client/stream-download.ts: the browser helper, defines <stream-download>
//   dist/types/gateway/  declarations of ".", checked against @cloudflare/workers-types alone
//                        (tsconfig.build.json)
//   dist/types/element/  declarations of "./element" (client/tsconfig.build.json)
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

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
  declarations("tsconfig.build.json"),
  declarations("client/tsconfig.build.json"),
]);
await addJsExtensions(join(dist, "types"));
console.log("Built dist/index.js, dist/element.js and their declarations in dist/types/");
