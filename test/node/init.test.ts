// `npx stream-download-gateway init` in a host app's directory: what it adds to the app's wrangler
// config is read back by wrangler itself, and what the host wrote stays as written.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { unstable_readConfig } from "wrangler";
import {
  addGatewayConfig,
  CRONS,
  DURABLE_OBJECTS,
  ignoresDevVars,
  MIGRATIONS_DIR,
  queueConsumers,
  QUEUE_PRODUCER,
  RATE_LIMITERS,
  runInit,
} from "../../cli/init.mjs";
import devAccount from "../../emulator/fixtures/dev-account.json";

const SECRETS = [devAccount.accountId, devAccount.apiToken, devAccount.signingKey.id, devAccount.signingKey.jwk];

let app: string;

beforeEach(() => {
  app = mkdtempSync(join(tmpdir(), "init-test-"));
  return () => rmSync(app, { recursive: true, force: true });
});

async function init(args: string[] = []) {
  let output = "";
  const code = await runInit(args, { cwd: app, out: { write: (text: string) => void (output += text) }, devAccount });
  return { code, output };
}

const read = (name: string) => readFileSync(join(app, name), "utf8");
const write = (name: string, text: string) => writeFileSync(join(app, name), text);
const files = () => Object.fromEntries(["wrangler.toml", "wrangler.jsonc", ".dev.vars", ".gitignore"].map((name) => [name, existsSync(join(app, name)) ? read(name) : null]));

/** What these tests read of wrangler's resolved config (wrangler's own type names a package it bundles: any here). */
interface WranglerConfig {
  d1_databases: { binding: string; database_name?: string; database_id?: string; migrations_dir?: string }[];
  ratelimits: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { tag: string; new_classes?: string[]; new_sqlite_classes?: string[] }[];
  queues: { producers: unknown[]; consumers: unknown[] };
  triggers: { crons: string[] };
}

/** The config as wrangler reads it, failing on any error or warning wrangler reports. */
function wranglerReads(name: string): WranglerConfig {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  try {
    const config: WranglerConfig = unstable_readConfig({ config: join(app, name) });
    expect(warn.mock.calls.flat().join("\n")).toBe("");
    return config;
  } finally {
    warn.mockRestore();
  }
}

const GATEWAY_LIMITERS = [
  { name: "USER_RATE_LIMITER", simple: { limit: 60, period: 60 } },
  { name: "IP_RATE_LIMITER", simple: { limit: 120, period: 60 } },
  { name: "LINK_PASSWORD_LIMITER", simple: { limit: 10, period: 60 } },
];
const GATEWAY_CONSUMERS = [
  { queue: "stream-download-audit", max_batch_size: 100, max_batch_timeout: 1, max_retries: 5, retry_delay: 60, dead_letter_queue: "stream-download-audit-dlq" },
  { queue: "stream-download-audit-dlq", max_batch_size: 100, max_batch_timeout: 5, max_retries: 100, retry_delay: 21600 },
  { queue: "stream-download-stream-events", max_batch_size: 100, max_batch_timeout: 1, max_retries: 10 },
];

const MINIMAL = 'name = "my-app"\nmain = "src/index.ts"\ncompatibility_date = "2026-11-09"\n';

test("a minimal wrangler.toml gets every binding, one migration and the crons, and wrangler reads them all", async () => {
  write("wrangler.toml", MINIMAL);
  const { code, output } = await init();
  expect(code).toBe(0);
  expect(read("wrangler.toml").startsWith(MINIMAL)).toBe(true);

  const config = wranglerReads("wrangler.toml");
  // No database_id: wrangler dev runs without one, and deploy finds the database by its name.
  expect(config.d1_databases).toEqual([{ binding: "DB", database_name: "my-app-downloads", migrations_dir: MIGRATIONS_DIR }]);
  expect(config.ratelimits).toEqual(GATEWAY_LIMITERS.map((limiter, i) => ({ ...limiter, namespace_id: String(1001 + i) })));
  expect(config.durable_objects.bindings).toEqual([
    { name: "STREAM_BUDGET", class_name: "StreamApiBudget" },
    { name: "USER_QUOTA", class_name: "UserQuota" },
    { name: "SHARE_LINKS", class_name: "ShareLinkObject" },
  ]);
  expect(config.migrations).toEqual([{ tag: "stream-download-gateway-v1", new_sqlite_classes: ["StreamApiBudget", "UserQuota", "ShareLinkObject"] }]);
  expect(config.queues.producers).toEqual([{ binding: "AUDIT_QUEUE", queue: "stream-download-audit" }]);
  expect(config.queues.consumers).toEqual(GATEWAY_CONSUMERS);
  expect(config.triggers.crons).toEqual(["17 3 * * *", "*/10 * * * *"]);

  expect(output).toContain("npx wrangler d1 migrations apply DB --local");
  expect(output).toContain("npx wrangler d1 create my-app-downloads");
  expect(output).toContain("npx wrangler queues create stream-download-audit-dlq --message-retention-period-secs 1209600");
  expect(output).not.toContain("bindings: {");
  for (const secret of SECRETS) expect(output).not.toContain(secret);
});

test("a worker without a name gets a database named stream-downloads-downloads", () => {
  const { report } = addGatewayConfig('main = "src/index.ts"\n', "toml");
  expect(report.databaseName).toBe("stream-downloads-downloads");
});

const HOST = `# The shop: its own database, limiter, cron and Durable Objects.
name = "shop"   # deployed as shop.example.workers.dev
main = "src/index.ts"
compatibility_date = "2026-11-09"

[vars]
GREETING = "hello"  # shown on the home page

[triggers]
# The shop's hourly digest.
crons = [
  "0 * * * *", # hourly
]

[[d1_databases]]
binding = "DB"        # the shop's users and purchases
database_name = "shop"
database_id = "4f1c2a0e-1111-2222-3333-444455556666"
migrations_dir = "migrations"

[[ratelimits]]
name = "LOGIN_LIMITER"
namespace_id = "1001"
simple = { limit = 5, period = 60 }

[[durable_objects.bindings]]
name = "CART"
class_name = "Cart"

[[migrations]]
tag = "v1"
new_classes = ["Cart"]

[[migrations]]
tag = "v2"
new_sqlite_classes = ["Wishlist"]

[env.staging]
name = "shop-staging"

[[env.staging.ratelimits]]
name = "LOGIN_LIMITER"
namespace_id = "1002"
simple = { limit = 5, period = 60 }
# end of the shop's config`;

describe("a host's own wrangler.toml", () => {
  test("keeps every byte it had, and gets DOWNLOADS_DB, crons next to its own, free namespace ids and tag", async () => {
    write("wrangler.toml", HOST);
    const { code, output } = await init();
    expect(code).toBe(0);
    const after = read("wrangler.toml");
    const edited = HOST.replace('"0 * * * *", # hourly', '"0 * * * *", "17 3 * * *", "*/10 * * * *", # hourly');
    expect(after.startsWith(`${edited}\n`)).toBe(true);

    const config = wranglerReads("wrangler.toml");
    expect(config.d1_databases).toEqual([
      { binding: "DB", database_name: "shop", database_id: "4f1c2a0e-1111-2222-3333-444455556666", migrations_dir: "migrations" },
      { binding: "DOWNLOADS_DB", database_name: "shop-downloads", migrations_dir: MIGRATIONS_DIR },
    ]);
    expect(config.triggers.crons).toEqual(["0 * * * *", "17 3 * * *", "*/10 * * * *"]);
    // 1001 is the shop's, 1002 its staging environment's: both are the account's namespaces.
    expect(config.ratelimits.map((limiter) => [limiter.name, limiter.namespace_id])).toEqual([
      ["LOGIN_LIMITER", "1001"],
      ["USER_RATE_LIMITER", "1003"],
      ["IP_RATE_LIMITER", "1004"],
      ["LINK_PASSWORD_LIMITER", "1005"],
    ]);
    expect(config.durable_objects.bindings.map((binding) => binding.name)).toEqual(["CART", "STREAM_BUDGET", "USER_QUOTA", "SHARE_LINKS"]);
    expect(config.migrations.map((migration) => migration.tag)).toEqual(["v1", "v2", "stream-download-gateway-v1"]);
    expect(config.migrations[2]).toEqual({ tag: "stream-download-gateway-v1", new_sqlite_classes: ["StreamApiBudget", "UserQuota", "ShareLinkObject"] });

    expect(output).toContain("  bindings: { ...env, DB: env.DOWNLOADS_DB },");
    expect(output).toContain("npx wrangler d1 migrations apply DOWNLOADS_DB --local");
    expect(output).toContain("env.staging");
  });

  test("a second run changes no file and says there is nothing to do", async () => {
    write("wrangler.toml", HOST);
    write(".gitignore", "node_modules/");
    expect((await init()).code).toBe(0);
    const first = files();
    const { code, output } = await init();
    expect(code).toBe(0);
    expect(files()).toEqual(first);
    expect(output).toContain("Nothing to do");
    expect(output).not.toContain("added");
  });

  test("a later release's class gets exactly one new migration tag, the earlier ones untouched", async () => {
    write("wrangler.toml", HOST);
    await init();
    const before = read("wrangler.toml");
    const later = [...DURABLE_OBJECTS, { binding: "LINK_COUNTER", className: "LinkCounter" }];
    const { text, report } = addGatewayConfig(before, "toml", { durableObjects: later });
    expect(text.startsWith(before)).toBe(true);
    const config = parseToml(text) as { migrations: unknown[]; durable_objects: { bindings: unknown[] } };
    expect(config.migrations).toEqual([
      ...(parseToml(before) as { migrations: unknown[] }).migrations,
      { tag: "stream-download-gateway-v2", new_sqlite_classes: ["LinkCounter"] },
    ]);
    expect(config.durable_objects.bindings.at(-1)).toEqual({ name: "LINK_COUNTER", class_name: "LinkCounter" });
    expect(report.added).toEqual(["Durable Object LINK_COUNTER (LinkCounter)", "migration stream-download-gateway-v2 (LinkCounter)"]);
    expect(addGatewayConfig(text, "toml", { durableObjects: later }).text).toBe(text);
  });

  test("a class the host already created by hand is not created again, and the next tag is free", () => {
    const byHand = `${MINIMAL}[[migrations]]\ntag = "stream-download-gateway-v1"\nnew_sqlite_classes = ["StreamApiBudget"]\n`;
    const config = parseToml(addGatewayConfig(byHand, "toml").text) as { migrations: unknown[] };
    expect(config.migrations).toEqual([
      { tag: "stream-download-gateway-v1", new_sqlite_classes: ["StreamApiBudget"] },
      { tag: "stream-download-gateway-v2", new_sqlite_classes: ["UserQuota", "ShareLinkObject"] },
    ]);
  });

  test("the gateway's D1 under any name is kept, and its name reported", () => {
    const wired = `${MINIMAL}[[d1_databases]]\nbinding = "GATEWAY_DB"\ndatabase_name = "downloads"\ndatabase_id = "4f1c2a0e-1111-2222-3333-444455556666"\nmigrations_dir = "./${MIGRATIONS_DIR}/"\n`;
    const { text, report } = addGatewayConfig(wired, "toml");
    expect((parseToml(text) as { d1_databases: unknown[] }).d1_databases).toHaveLength(1);
    expect(report).toMatchObject({ db: "GATEWAY_DB", hasDatabaseId: true, present: expect.arrayContaining(["D1 GATEWAY_DB"]) });
  });

  test("a gateway name bound to something else is kept, and said so", () => {
    const other = `${MINIMAL}[[durable_objects.bindings]]\nname = "STREAM_BUDGET"\nclass_name = "Budget"\n\n[[queues.producers]]\nbinding = "AUDIT_QUEUE"\nqueue = "shop-audit"\n`;
    const { text, report } = addGatewayConfig(other, "toml");
    const config = parseToml(text) as { durable_objects: { bindings: unknown[] }; queues: { producers: unknown[]; consumers: unknown[] } };
    expect(config.durable_objects.bindings[0]).toEqual({ name: "STREAM_BUDGET", class_name: "Budget" });
    expect(config.queues.producers).toEqual([{ binding: "AUDIT_QUEUE", queue: "shop-audit" }]);
    // The consumers follow the queue the producer sends to, and the option to name it is printed.
    expect(config.queues.consumers).toEqual(queueConsumers("shop-audit"));
    expect(config.queues.consumers).toContainEqual(expect.objectContaining({ queue: "shop-audit", dead_letter_queue: "shop-audit-dlq" }));
    expect(report).toMatchObject({ queue: "shop-audit" });
    expect(report.notes).toEqual([
      "STREAM_BUDGET is bound to class Budget, not the gateway's StreamApiBudget: kept as it is.",
      'AUDIT_QUEUE sends to shop-audit, not stream-download-audit: kept, with consumers of it and shop-audit-dlq; add to streamDownloads\' options: queues: { audit: "shop-audit" },',
    ]);
  });

  test("a cron of the host's that is also the gateway's is kept, with a note that the host's job still runs", () => {
    const { report } = addGatewayConfig(`${MINIMAL}[triggers]
crons = ["*/10 * * * *"]
`, "toml");
    expect(report.notes).toEqual([expect.stringMatching(/^the cron \*\/10 \* \* \* \* was already yours: .*own\.scheduled/)]);
  });

  test("a [triggers] table without crons gets a crons line under its header", () => {
    const text = `${MINIMAL}\n[triggers] # schedules\n\n[vars]\nA = "1"\n`;
    const out = addGatewayConfig(text, "toml").text;
    expect(out.startsWith(`${MINIMAL}\n[triggers] # schedules\ncrons = ["17 3 * * *", "*/10 * * * *"]\n\n[vars]\nA = "1"\n`)).toBe(true);
  });
});

describe("arrays written inline are refused, naming the key, and nothing is written", () => {
  test("d1_databases = [ … ]: exit 1, every file as it was", async () => {
    const inline = `${MINIMAL}d1_databases = [\n  { binding = "APP_DB", database_name = "app", migrations_dir = "migrations" },\n]\n`;
    write("wrangler.toml", inline);
    const { code, output } = await init();
    expect(code).toBe(1);
    expect(output).toContain("d1_databases is written inline");
    expect(files()).toEqual({ "wrangler.toml": inline, "wrangler.jsonc": null, ".dev.vars": null, ".gitignore": null });
  });

  test.each([
    ["durable_objects = { bindings = [] }\n", "durable_objects.bindings"],
    ["[queues]\nconsumers = []\n", "queues.consumers"],
    ["triggers = { crons = [] }\n", "triggers"],
  ])("%j names %s", (inline, key) => {
    expect(() => addGatewayConfig(`${MINIMAL}${inline}`, "toml")).toThrow(`${key} is written inline`);
  });

  test("an entry that is not a list is named, not replaced", () => {
    expect(() => addGatewayConfig('{ "name": "shop", "ratelimits": {} }', "json")).toThrow("ratelimits is not a list of entries");
    expect(() => addGatewayConfig('{ "name": "shop", "triggers": { "crons": "0 * * * *" } }', "json")).toThrow("triggers.crons is not a list of entries");
  });

  test("an edit that would change one of the host's values is refused: here a [triggers] line inside a string", () => {
    const tricky = `${MINIMAL}description = """\n[triggers]\n"""\n\n[triggers]\ncrons = ["0 * * * *"]\n`;
    expect(() => addGatewayConfig(tricky, "toml")).toThrow("without changing what is there");
  });
});

const JSONC = `{
    // The shop's Worker.
    "name": "shop",
    "main": "src/index.ts", /* its entry */
    "compatibility_date": "2026-11-09",
    "d1_databases": [
        // The shop's own database.
        { "binding": "APP_DB", "database_name": "shop", "database_id": "4f1c2a0e-1111-2222-3333-444455556666" }
    ],
    "triggers": { "crons": ["0 * * * *"] } // hourly digest
}
`;

test("a wrangler.jsonc keeps its comments and indentation, and wrangler reads what init added", async () => {
  write("wrangler.jsonc", JSONC);
  write("wrangler.toml", MINIMAL);
  const { code } = await init();
  expect(code).toBe(0);
  expect(read("wrangler.toml")).toBe(MINIMAL);
  const after = read("wrangler.jsonc");
  for (const comment of ["// The shop's Worker.", "/* its entry */", "// The shop's own database.", "// hourly digest"]) expect(after).toContain(comment);
  expect(after).toContain('\n        {\n            "name": "USER_RATE_LIMITER",');
  const [before, parsed] = [parseJsonc(JSONC), parseJsonc(after)];
  expect(parsed).toMatchObject({ name: before.name, main: before.main, compatibility_date: before.compatibility_date, d1_databases: [before.d1_databases[0], expect.anything()] });

  const config = wranglerReads("wrangler.jsonc");
  expect(config.d1_databases.map((database) => database.binding)).toEqual(["APP_DB", "DB"]);
  expect(config.ratelimits).toEqual(GATEWAY_LIMITERS.map((limiter, i) => ({ ...limiter, namespace_id: String(1001 + i) })));
  expect(config.durable_objects.bindings.map((binding) => binding.class_name)).toEqual(["StreamApiBudget", "UserQuota", "ShareLinkObject"]);
  expect(config.migrations).toEqual([{ tag: "stream-download-gateway-v1", new_sqlite_classes: ["StreamApiBudget", "UserQuota", "ShareLinkObject"] }]);
  expect(config.queues.consumers).toEqual(GATEWAY_CONSUMERS);
  expect(config.triggers.crons).toEqual(["0 * * * *", "17 3 * * *", "*/10 * * * *"]);

  const first = files();
  expect((await init()).output).toContain("Nothing to do");
  expect(files()).toEqual(first);
});

test("--dry-run tells what it would add and writes nothing", async () => {
  write("wrangler.toml", MINIMAL);
  const { code, output } = await init(["--dry-run"]);
  expect(code).toBe(0);
  expect(output).toContain("Dry run: nothing written.");
  expect(output).toContain("would add");
  expect(output).toContain("D1 DB (database my-app-downloads)");
  expect(files()).toEqual({ "wrangler.toml": MINIMAL, "wrangler.jsonc": null, ".dev.vars": null, ".gitignore": null });
});

describe(".dev.vars and .gitignore", () => {
  test("a new .dev.vars holds the emulator's dev-only settings, private, and a new .gitignore ignores it", async () => {
    write("wrangler.toml", MINIMAL);
    await init();
    const lines = read(".dev.vars").split("\n");
    expect(lines[0]).toMatch(/^# Dev-only values for the local Stream emulator \(`npx stream-download-gateway emulator`\)/);
    expect(lines.slice(1)).toEqual([
      `STREAM_ACCOUNT_ID=${devAccount.accountId}`,
      `STREAM_API_TOKEN=${devAccount.apiToken}`,
      `STREAM_KEY_ID=${devAccount.signingKey.id}`,
      `STREAM_KEY_JWK=${devAccount.signingKey.jwk}`,
      "STREAM_API_BASE=http://localhost:8788/client/v4",
      "STREAM_DELIVERY_BASE=http://localhost:8788",
      "",
    ]);
    expect(statSync(join(app, ".dev.vars")).mode & 0o777).toBe(0o600);
    expect(read(".gitignore")).toBe(".dev.vars\n");
  });

  test("the host's keys are kept, only missing ones are added, and no value is printed", async () => {
    write("wrangler.toml", MINIMAL);
    const own = "# mine\nexport STREAM_API_TOKEN=my-real-token-0123456789\nSTREAM_DELIVERY_BASE=https://customer-abc.cloudflarestream.com";
    write(".dev.vars", own);
    write(".gitignore", "node_modules/\n!.dev.vars\n");
    const { output } = await init();
    const after = read(".dev.vars");
    expect(after.startsWith(`${own}\n# Dev-only`)).toBe(true);
    expect(after.match(/STREAM_API_TOKEN=/g)).toHaveLength(1);
    expect(after.match(/STREAM_DELIVERY_BASE=/g)).toHaveLength(1);
    expect(after).toContain(`STREAM_KEY_JWK=${devAccount.signingKey.jwk}\n`);
    expect(read(".gitignore")).toBe("node_modules/\n!.dev.vars\n.dev.vars\n");
    expect(output).toMatch(/already there: STREAM_API_TOKEN, STREAM_DELIVERY_BASE/);
    for (const secret of [...SECRETS, "my-real-token-0123456789"]) expect(output).not.toContain(secret);
  });

  test("an app that keeps its secrets in .env is told that wrangler dev will read .dev.vars instead", async () => {
    write("wrangler.toml", MINIMAL);
    write(".env", "SHOP_SECRET=x\n");
    expect((await init()).output).toContain("wrangler dev reads .dev.vars instead of .env");
    expect((await init()).output).not.toContain(".env when both exist");
  });

  test.each([
    [".dev.vars", true],
    ["/.dev.vars*", true],
    ["**/*.vars", true],
    [".dev.vars*\n!.dev.vars", false],
    [".dev.vars/", false],
    ["config/.dev.vars", false],
    [".dev.vars.*", false],
    ["# .dev.vars", false],
  ])("a .gitignore of %j ignores .dev.vars: %s", (text, ignored) => {
    expect(ignoresDevVars(text)).toBe(ignored);
  });
});

describe("usage", () => {
  test("no wrangler config here: exit 2 naming the files it looked for, nothing written", async () => {
    const { code, output } = await init();
    expect(code).toBe(2);
    expect(output).toContain("No wrangler config in");
    expect(output).toContain("wrangler.jsonc, wrangler.json, wrangler.toml");
    expect(files()).toEqual({ "wrangler.toml": null, "wrangler.jsonc": null, ".dev.vars": null, ".gitignore": null });
  });

  test("an unknown flag or a missing --config file: exit 2", async () => {
    write("wrangler.toml", MINIMAL);
    expect((await init(["--force"])).code).toBe(2);
    expect(await init(["--config", "elsewhere.toml"])).toMatchObject({ code: 2, output: expect.stringContaining("--config elsewhere.toml: no such file.") });
    expect(read("wrangler.toml")).toBe(MINIMAL);
  });

  test("--config picks a file that is not the first one found", async () => {
    write("wrangler.jsonc", JSONC);
    write("wrangler.toml", MINIMAL);
    expect((await init(["--config", "wrangler.toml"])).code).toBe(0);
    expect(read("wrangler.jsonc")).toBe(JSONC);
    expect(read("wrangler.toml")).not.toBe(MINIMAL);
  });
});

test("what init adds is what the gateway's own wrangler.toml uses (the names are the wiring's, src/config/wiring-names.ts)", () => {
  const own = parseToml(readFileSync("wrangler.toml", "utf8")) as Record<string, any>;
  expect(own.ratelimits.map(({ name, simple }: { name: string; simple: object }) => ({ name, ...simple }))).toEqual(RATE_LIMITERS);
  expect(own.durable_objects.bindings).toEqual(DURABLE_OBJECTS.map(({ binding, className }) => ({ name: binding, class_name: className })));
  expect(own.queues.producers).toEqual([QUEUE_PRODUCER]);
  expect(own.queues.consumers).toEqual(queueConsumers(QUEUE_PRODUCER.queue));
  expect(own.triggers.crons).toEqual(CRONS);
});
