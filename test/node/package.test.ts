// The package as an app outside this repository gets it: `npm pack`, then a Hono app in a temporary
// directory installs the tarball, mounts `streamDownloads` under /media with its own hooks,
// type-checks against the package's declarations (and fails to on a wrong hook, so they are real
// types, not `any`), imports the browser helper, and is bundled by wrangler as a deployment would be.
// The declarations of "." are one file that declares the public API and nothing of the internals.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = join(root, "node_modules/typescript/bin/tsc");
const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");

// npx and npm run pass their own npm_* settings down; the app's npm must read only its own.
const env = { ...process.env };
for (const name of Object.keys(env)) if (name.startsWith("npm_")) delete env[name];

async function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  try {
    return await promisify(execFile)(command, args, { cwd, env: { ...env, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}

/** The files of the project with type errors, or [] when it checks. */
async function typeErrors(app: string, project: string): Promise<{ file: string; message: string }[]> {
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", project, "--pretty", "false"], { cwd: app, env });
    return [];
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? "";
    const errors = [...output.matchAll(/^(\S+?)\(\d+,\d+\): error (TS\d+: .*)$/gm)].map(([, file = "", message = ""]) => ({ file, message }));
    if (errors.length === 0) throw new Error(`tsc -p ${project} failed without type errors:\n${output}`, { cause: error });
    return errors;
  }
}

interface PackedFile {
  path: string;
}

const repoPackage = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  exports: Record<string, string | Record<string, string>>;
};
const honoVersion = (JSON.parse(await readFile(join(root, "node_modules/hono/package.json"), "utf8")) as { version: string }).version;

let temp = "";
let app = "";
let packed: PackedFile[] = [];

// The app: what an integrator writes, with the package's hooks and bindings.
const worker = `import { Hono } from "hono";
import { optionsFromEnv, StreamApiBudget, streamDownloads, type AppUser, type QueueMessage } from "stream-download-gateway";

export { StreamApiBudget };

export interface AppEnv {
  DB: D1Database;
  USER_RATE_LIMITER: RateLimit;
  IP_RATE_LIMITER: RateLimit;
  LINK_PASSWORD_LIMITER: RateLimit;
  STREAM_BUDGET: DurableObjectNamespace<StreamApiBudget>;
  AUDIT_QUEUE: Queue<QueueMessage>;
  STREAM_ACCOUNT_ID: string;
  STREAM_API_TOKEN: string;
}

const subscribers = new Set(["ada"]);

const app = new Hono<{ Bindings: AppEnv }>();
app.get("/", (c) => c.text("the app"));
const media = streamDownloads((env: AppEnv) => ({
    ...optionsFromEnv(env),
    queues: { audit: "download-app-audit" },
    identify: async (c): Promise<AppUser | null> => {
      const id = c.req.header("x-app-user");
      return id ? { id, claims: {} } : null;
    },
    entitle: async (user, video) => (subscribers.has(user.id) && video.length === 32 ? "grant" : null),
}));
app.route("/media", media);

// The app's fetch, and the gateway's crons (retention, re-check) and audit queue consumer.
export default media.worker(app) satisfies ExportedHandler<AppEnv>;
`;

// Every public name, as an app would use it: values, classes and types.
const publicApi = `import {
  DEFAULT_CRONS,
  DEFAULT_QUEUES,
  optionsFromEnv,
  Problem,
  ShareLinkObject,
  StreamApiBudget,
  streamDownloads,
  unauthenticated,
  UserQuota,
  type AppEvent,
  type AppEventType,
  type AppUser,
  type AuditEvent,
  type AuditPage,
  type AuditQuery,
  type DeliveryMode,
  type DownloadType,
  type EntitleAnswer,
  type EntitleHook,
  type EntitlementSource,
  type GatewayAdmin,
  type GatewayBindings,
  type GatewaySettings,
  type GatewayWorker,
  type GrantInput,
  type HostHandlers,
  type HostUser,
  type IdentifyHook,
  type OptionsSource,
  type ProblemType,
  type QueueMessage,
  type StillEntitledHook,
  type StreamDownloadsApp,
  type StreamDownloadsOptions,
  type Wiring,
} from "stream-download-gateway";

export { ShareLinkObject, StreamApiBudget, UserQuota };

type Env = GatewayBindings & { STREAM_ACCOUNT_ID: string };
const source: OptionsSource<Env> = (env) => ({ ...optionsFromEnv(env), identify, entitle, stillEntitled });
const identify: IdentifyHook = async (_c, { allowCookie }): Promise<HostUser | null> => (allowCookie ? { id: "ada" } : null);
const entitle: EntitleHook = (user: AppUser, video: string): EntitleAnswer => (user.id === video ? ("grant" satisfies EntitlementSource) : false);
const stillEntitled: StillEntitledHook = (link) => link.createdAt > 0;
const app: StreamDownloadsApp<Env> = streamDownloads(source);
export const worker: GatewayWorker<Env> = app.worker(app, {} satisfies HostHandlers<Env>);
export const admin = (env: Env): GatewayAdmin => app.admin(env);
export const grants: GrantInput[] = [{ user: "ada", video: "v", expiresAt: null }];
export const query: AuditQuery = { limit: 10 };
export const firstEvent = async (env: Env): Promise<AuditEvent["id"] | undefined> => ((await admin(env).audit(query)) satisfies AuditPage).events[0]?.eventId ?? undefined;
export const settings: GatewaySettings = { stream: { accountId: "", keyId: "", keyJwk: "", deliveryBase: "" }, downloads: { modes: ["redirect" satisfies DeliveryMode], prepare: ["audio" satisfies DownloadType] } };
export const options: StreamDownloadsOptions<Env> = { ...settings, crons: DEFAULT_CRONS, queues: DEFAULT_QUEUES satisfies Wiring["queues"] };
export const problem: ProblemType = (unauthenticated("no token") satisfies Problem).type;
export const message = (event: AppEvent): QueueMessage & { event: AppEvent } => ({ kind: "event", event: { ...event, type: "link.created" satisfies AppEventType } });
export type Namespaces = [DurableObjectNamespace<StreamApiBudget>, DurableObjectNamespace<UserQuota>, DurableObjectNamespace<ShareLinkObject>];
`;

// The same factory with an entitle hook that answers a number: must not type-check.
const wrongHook = `import { streamDownloads, type GatewayBindings } from "stream-download-gateway";

export const wrong = streamDownloads({
  stream: { accountId: "", keyId: "", keyJwk: "", deliveryBase: "" },
  bindings: {} as GatewayBindings,
  entitle: async () => 1,
});
`;

// The app's web page, with the download-button helper from the package.
const browser = `import { StreamDownloadElement, StreamDownloadError, streamDownload } from "stream-download-gateway/element";

const button = document.querySelector("stream-download");
if (button instanceof StreamDownloadElement) button.setAttribute("gateway", "https://app.example/media");

document.querySelector("#save")?.addEventListener("click", async () => {
  try {
    const { url, expiresAt } = await streamDownload("c0ffee00000000000000000000000001", { gateway: "/media", type: "audio" });
    console.log(url, expiresAt);
  } catch (error) {
    if (error instanceof StreamDownloadError) console.warn(error.type, error.retryAfter);
  }
});
`;

const wrongBrowser = `import { streamDownload } from "stream-download-gateway/element";

export const wrong = streamDownload(42, { type: "video" });
`;

const workerOptions = {
  target: "es2024",
  lib: ["es2024"],
  types: ["@cloudflare/workers-types"],
  strict: true,
  isolatedModules: true,
  skipLibCheck: true,
  noEmit: true,
};

const appFiles: Record<string, string> = {
  "src/worker.ts": worker,
  "src/public-api.ts": publicApi,
  "src/wrong-hook.ts": wrongHook,
  "src/browser.ts": browser,
  "src/wrong-browser.ts": wrongBrowser,
  // As Cloudflare's templates have it.
  "tsconfig.json": JSON.stringify({
    compilerOptions: { ...workerOptions, module: "es2022", moduleResolution: "bundler" },
    include: ["src/worker.ts", "src/public-api.ts", "src/wrong-hook.ts"],
  }),
  "tsconfig.nodenext.json": JSON.stringify({
    compilerOptions: { ...workerOptions, module: "nodenext", moduleResolution: "nodenext" },
    include: ["src/worker.ts", "src/public-api.ts", "src/wrong-hook.ts"],
  }),
  "tsconfig.browser.json": JSON.stringify({
    compilerOptions: { target: "es2022", lib: ["es2022", "dom"], types: [], module: "es2022", moduleResolution: "bundler", strict: true, noEmit: true },
    include: ["src/browser.ts", "src/wrong-browser.ts"],
  }),
  "wrangler.toml": `name = "download-app"
main = "src/worker.ts"
compatibility_date = "2026-11-09"

[vars]
STREAM_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"

[[d1_databases]]
binding = "DB"
database_name = "download-app"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = "node_modules/stream-download-gateway/migrations"

[[ratelimits]]
name = "USER_RATE_LIMITER"
namespace_id = "1001"
simple = { limit = 60, period = 60 }

[[ratelimits]]
name = "IP_RATE_LIMITER"
namespace_id = "1002"
simple = { limit = 120, period = 60 }

[[ratelimits]]
name = "LINK_PASSWORD_LIMITER"
namespace_id = "1003"
simple = { limit = 10, period = 60 }

[[durable_objects.bindings]]
name = "STREAM_BUDGET"
class_name = "StreamApiBudget"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["StreamApiBudget"]

[[queues.producers]]
binding = "AUDIT_QUEUE"
queue = "download-app-audit"

[[queues.consumers]]
queue = "download-app-audit"
dead_letter_queue = "download-app-audit-dlq"

[[queues.consumers]]
queue = "download-app-audit-dlq"
`,
};

describe("the packed package in an app outside the repository", () => {
  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), "sdg-package-"));
    await run("npm", ["run", "build"], root);
    const [pack] = JSON.parse((await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", temp], root)).stdout) as {
      filename: string;
      files: PackedFile[];
    }[];
    if (!pack) throw new Error("npm pack reported no package");
    packed = pack.files;

    app = join(temp, "app");
    await mkdir(join(app, "src"), { recursive: true });
    const manifest = {
      name: "download-app",
      private: true,
      type: "module",
      dependencies: { "stream-download-gateway": `file:${join(temp, pack.filename)}`, hono: honoVersion },
      // Types only: taken from this repository rather than downloaded again.
      devDependencies: { "@cloudflare/workers-types": `file:${join(root, "node_modules/@cloudflare/workers-types")}` },
    };
    await writeFile(join(app, "package.json"), JSON.stringify(manifest, null, 2));
    await Promise.all(Object.entries(appFiles).map(([path, text]) => writeFile(join(app, path), text)));
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], app);
  }, 120_000);

  afterAll(async () => {
    if (temp) await rm(temp, { recursive: true, force: true, maxRetries: 3 });
  });

  test("npm pack ships both entries with their declarations, migrations/ and the docs, nothing else", async () => {
    const paths = packed.map((file) => file.path);
    const migrations = (await readdir(join(root, "migrations"))).map((name) => `migrations/${name}`);
    const exported = Object.values(repoPackage.exports)
      .flatMap((target) => (typeof target === "string" ? [target] : Object.values(target)))
      .filter((target) => !target.includes("*"))
      .map((target) => target.replace(/^\.\//, ""));
    expect(migrations.length).toBeGreaterThan(0);
    expect(paths).toEqual(expect.arrayContaining([...exported, ...migrations, "README.md", "LICENSE", "CHANGELOG.md"]));
    expect(exported).toEqual(
      expect.arrayContaining(["dist/index.js", "dist/types/index.d.ts", "dist/element.js", "dist/types/element/stream-download.d.ts"]),
    );
    const topLevel = ["package.json", "README.md", "LICENSE", "CHANGELOG.md"];
    expect(paths.filter((path) => !topLevel.includes(path) && !/^(dist|migrations)\//.test(path))).toEqual([]);
  });

  test("the declarations of \".\" are one file of at most 400 lines, which declares the public API and none of the internals", async () => {
    const declarations = packed.map((file) => file.path).filter((path) => path.startsWith("dist/types/") && !path.startsWith("dist/types/element/"));
    expect(declarations).toEqual(["dist/types/index.d.ts"]);
    const text = await readFile(join(app, "node_modules/stream-download-gateway/dist/types/index.d.ts"), "utf8");
    expect(text.split("\n").length).toBeLessThanOrEqual(400);
    expect(text).not.toMatch(/^import .* from ["']\./m);

    const source = ts.createSourceFile("index.d.ts", text, ts.ScriptTarget.Latest, true);
    const exported = new Set<string>();
    const names = new Set<string>();
    const visit = (node: ts.Node) => {
      if (ts.isIdentifier(node)) names.add(node.text);
      ts.forEachChild(node, visit);
    };
    visit(source);
    for (const statement of source.statements) {
      const isExported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (ts.isVariableStatement(statement) && isExported) {
        for (const declaration of statement.declarationList.declarations) exported.add(declaration.name.getText(source));
      } else if (isExported && "name" in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)) {
        exported.add((statement.name as ts.Identifier).text);
      } else if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) exported.add(element.name.text);
      }
    }
    // The public API as README.md and docs/integration.md use it, and src/library.ts exports it.
    const values = ["streamDownloads", "optionsFromEnv", "Problem", "unauthenticated", "DEFAULT_CRONS", "DEFAULT_QUEUES", "StreamApiBudget", "UserQuota", "ShareLinkObject"];
    const types = [
      ...["StreamDownloadsApp", "StreamDownloadsOptions", "OptionsSource", "GatewaySettings", "GatewayBindings", "DeliveryMode", "DownloadType", "Wiring"],
      ...["IdentifyHook", "EntitleHook", "StillEntitledHook", "EntitleAnswer", "EntitlementSource", "HostUser", "AppUser"],
      ...["AuditEvent", "AppEvent", "AppEventType", "QueueMessage", "ProblemType"],
      ...["GatewayAdmin", "GrantInput", "AuditPage", "AuditQuery", "HostHandlers", "GatewayWorker"],
    ];
    expect([...exported].sort()).toEqual([...values, ...types].sort());
    for (const internal of ["AppEnv", "AppContext", "Gateway", "Deps", "MemoryCache", "Config", "Hooks", "ShareLink", "ShareLinkStore", "StreamApi"]) {
      expect(names.has(internal), `${internal} is declared or named in index.d.ts`).toBe(false);
    }
  });

  test("installing it brings jose and zod and uses the app's own hono, one copy", async () => {
    const installed = await readdir(join(app, "node_modules"));
    expect(installed).toEqual(expect.arrayContaining(["stream-download-gateway", "hono", "jose", "zod"]));
    await expect(readdir(join(app, "node_modules/stream-download-gateway/node_modules"))).rejects.toThrow(/ENOENT/);
  });

  test("an app mounting streamDownloads with its own identify and entitle, and one using every public name, type-check (bundler resolution); an entitle answering a number does not", async () => {
    const errors = await typeErrors(app, "tsconfig.json");
    expect(errors.map((error) => error.file)).toEqual(["src/wrong-hook.ts"]);
    expect(errors[0]?.message).toMatch(/^TS2322: .*number/);
  }, 30_000);

  test("the same app type-checks under nodenext resolution, with the same error for the wrong hook", async () => {
    const errors = await typeErrors(app, "tsconfig.nodenext.json");
    expect(errors.map((error) => error.file)).toEqual(["src/wrong-hook.ts"]);
    expect(errors[0]?.message).toMatch(/^TS2322: .*number/);
  }, 30_000);

  test("a web page imports the browser helper from stream-download-gateway/element with its types", async () => {
    const errors = await typeErrors(app, "tsconfig.browser.json");
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors.map((error) => error.file))).toEqual(new Set(["src/wrong-browser.ts"]));
  }, 30_000);

  test("wrangler bundles the app for deployment: the package, one hono, jose and zod, only cloudflare:workers left as an import", async () => {
    const out = join(temp, "out");
    await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", out], app, {
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      XDG_CONFIG_HOME: join(temp, "config"),
    });
    const bundle = await readFile(join(out, "worker.js"), "utf8");
    // esbuild heads each bundled module with a comment naming its file.
    const modules = [...bundle.matchAll(/^\/\/ (node_modules\/\S+)$/gm)].map(([, path]) => path);
    expect(modules).toContain("node_modules/stream-download-gateway/dist/index.js");
    expect(modules.filter((path) => path?.endsWith("/hono-base.js"))).toEqual(["node_modules/hono/dist/hono-base.js"]);
    expect(modules.some((path) => path?.startsWith("node_modules/jose/"))).toBe(true);
    expect(modules.some((path) => path?.startsWith("node_modules/zod/"))).toBe(true);
    expect(bundle).toMatch(/\bStreamApiBudget,\n/);
    const imports = [...bundle.matchAll(/^import .* from "([^"]+)";$/gm)].map(([, specifier]) => specifier);
    expect(new Set(imports)).toEqual(new Set(["cloudflare:workers"]));
  }, 30_000);
});
