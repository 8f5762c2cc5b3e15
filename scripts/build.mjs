// `npm run build` (and `npm pack`, through prepack): the package an app installs, into dist/.
//   dist/index.js        src/library.ts: `streamDownloads`, `StreamApiBudget`; hono, jose, zod
//                        and cloudflare:workers stay imports (an app brings one Hono, and wrangler
//                        bundles the rest with the app)
//   dist/element.js      client/stream-download.ts: the browser helper, defines <stream-download>
//   dist/types/index.d.ts  declarations of ".", one file: tsc declares src/library.ts and what it
//                        imports (tsconfig.build.json, checked against @cloudflare/workers-types
//                        alone) into dist/.declarations/, dts-bundle-generator keeps only what
//                        the entry exports and the types those name (the Durable Object classes
//                        without their members), and the file is type-checked again on its own:
//                        the internals stay out of it
//   dist/types/element/  declarations of "./element" (client/tsconfig.build.json)
//   dist/cli.mjs         cli/main.mjs: `npx stream-download-gateway init | emulator` (Node), its
//                        TOML and JSONC parsers bundled in
//   dist/emulator/       the Stream emulator as one Worker script, its wrangler config and the
//                        dev-only account fixture (`emulator`, and `init`'s .dev.vars)
import { generateDtsBundle } from "dts-bundle-generator";
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { bundleEmulator } from "../emulator/bundle.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const tscBin = createRequire(import.meta.url).resolve("typescript/bin/tsc");

const common = { absWorkingDir: root, bundle: true, format: "esm", target: "es2022", legalComments: "none", logLevel: "warning" };

/** tsc with these arguments; its type errors fail the build. */
async function tsc(args, what, hint = "") {
  try {
    await promisify(execFile)(process.execPath, [tscBin, ...args], { cwd: root });
  } catch (error) {
    throw new Error(`tsc ${what} failed:\n${error.stdout}${error.stderr}${hint}`);
  }
}

/** Declarations of one tsconfig. */
const declarations = (project) => tsc(["-p", project], `-p ${project}`);

/**
 * The Durable Object classes are exported for an app to export and bind, never to call: their
 * declarations keep the class and drop its members, whose RPC types are the gateway's internals.
 * Any class extending cloudflare:workers' DurableObject, wherever it is declared.
 */
async function bareDurableObjects(directory) {
  await rewriteDeclarations(directory, (path, text) => {
    if (!text.includes('"cloudflare:workers"')) return text;
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const bases = new Set();
    for (const statement of source.statements) {
      const bindings = statement.importClause?.namedBindings;
      if (!ts.isImportDeclaration(statement) || statement.moduleSpecifier.text !== "cloudflare:workers" || !bindings || !ts.isNamedImports(bindings)) continue;
      for (const element of bindings.elements) if ((element.propertyName ?? element.name).text === "DurableObject") bases.add(element.name.text);
    }
    const cuts = source.statements
      .filter((statement) => ts.isClassDeclaration(statement) && statement.members.length > 0)
      .filter((statement) => statement.heritageClauses?.some((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword && clause.types.some(({ expression }) => ts.isIdentifier(expression) && bases.has(expression.text))))
      .map(({ members }) => [members.pos, members.end]);
    return cuts.reduceRight((rest, [from, to]) => `${rest.slice(0, from)}\n${rest.slice(to)}`, text);
  });
}

/** Each declaration file under `directory`, rewritten by `rewrite` (written back only when changed). */
async function rewriteDeclarations(directory, rewrite) {
  const files = (await readdir(directory, { recursive: true })).filter((file) => file.endsWith(".d.ts"));
  await Promise.all(
    files.map(async (file) => {
      const path = join(directory, file);
      const text = await readFile(path, "utf8");
      const rewritten = rewrite(path, text);
      if (rewritten !== text) await writeFile(path, rewritten);
    }),
  );
}

/**
 * The bundler prints every object and tuple type over several lines; one that has no comments and
 * fits in `width` columns where it stands is printed on its line, as a person would write it.
 */
function compactTypes(text, width = 120) {
  const source = ts.createSourceFile("index.d.ts", text, ts.ScriptTarget.Latest, true);
  const printer = ts.createPrinter({ removeComments: true });
  const short = (node) => ts.isTypeLiteralNode(node) || ts.isTupleTypeNode(node);
  const flatten = (node) => {
    if (short(node)) ts.setEmitFlags(node, ts.EmitFlags.SingleLine);
    ts.forEachChild(node, flatten);
  };
  const edits = [];
  const visit = (node) => {
    const start = node.getStart(source);
    const raw = text.slice(start, node.end);
    if (short(node) && raw.includes("\n") && !/\/[/*]/.test(raw)) {
      flatten(node);
      const line = printer.printNode(ts.EmitHint.Unspecified, node, source);
      const before = text.slice(text.lastIndexOf("\n", start) + 1, start);
      const after = text.slice(node.end, text.indexOf("\n", node.end));
      if (`${before}${line}${after}`.replace(/\t/g, "  ").length <= width) return void edits.push([start, node.end, line]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edits.reduceRight((rest, [from, to, line]) => `${rest.slice(0, from)}${line}${rest.slice(to)}`, text);
}

/** The declarations of ".", bundled into dist/types/index.d.ts from what tsc wrote into dist/.declarations/. */
async function gatewayDeclarations() {
  const emitted = join(dist, ".declarations");
  await declarations("tsconfig.build.json");
  await bareDurableObjects(emitted);
  const [bundle] = generateDtsBundle([{ filePath: join(emitted, "library.d.ts"), output: { noBanner: true } }], {
    preferredConfigPath: join(root, "tsconfig.build.json"),
  });
  await mkdir(join(dist, "types"), { recursive: true });
  await writeFile(join(dist, "types/index.d.ts"), compactTypes(bundle));
  await rm(emitted, { recursive: true, force: true });
  // The bundle on its own, its libraries' declarations included (skipLibCheck is off).
  const check = ["--noEmit", "--strict", "--target", "es2024", "--lib", "es2024", "--module", "es2022", "--moduleResolution", "bundler"];
  const hint = "(does a type src/library.ts exports name an internal one? The bundle then holds it, and what it names)\n";
  await tsc([...check, "--types", "@cloudflare/workers-types", "dist/types/index.d.ts"], "dist/types/index.d.ts", hint);
}

/**
 * tsc keeps the sources' extensionless relative imports, which only `"moduleResolution":
 * "bundler"` follows. With the `.js` a declaration file actually has beside it, apps on
 * `node16`/`nodenext` resolve them too (otherwise their types silently become `any`).
 */
async function addJsExtensions(directory) {
  await rewriteDeclarations(directory, (path, text) =>
    text.replace(/(from |import\()"(\.\.?\/[^"]+)"/g, (_, keyword, specifier) => {
      const target = resolve(dirname(path), specifier);
      if (existsSync(`${target}.d.ts`)) return `${keyword}"${specifier}.js"`;
      if (existsSync(join(target, "index.d.ts"))) return `${keyword}"${specifier}/index.js"`;
      throw new Error(`${path}: no declaration file for ${specifier}`);
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
  gatewayDeclarations(),
  declarations("client/tsconfig.build.json"),
]);
await addJsExtensions(join(dist, "types/element"));
console.log("Built dist/index.js, dist/element.js and their declarations in dist/types/, dist/cli.mjs and dist/emulator/");
