// @ts-check
// `npx stream-download-gateway init`, run in a host app's directory: adds to its wrangler config
// what the gateway library needs (docs/integration.md › 1. The library) and writes .dev.vars for
// the local Stream emulator. It only ever adds: the host's own entries, comments and layout stay as
// written, so a TOML file gets text appended (never re-serialized) and a JSON(C) file gets
// jsonc-parser's minimal edits. Every result is parsed back and compared with what was meant
// before anything is written. It never prints a secret value.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, extname, join, relative, resolve } from "node:path";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { applyEdits, modify, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { DEFAULT_CRONS, DEFAULT_QUEUES, queuesOf } from "../src/config/wiring-names.ts";

/** @typedef {"toml" | "json"} ConfigFormat */
/** @typedef {{ binding: string, className: string }} GatewayDurableObject */
/** The dev-only fixture the emulator knows (emulator/fixtures/dev-account.json). @typedef {{ accountId: string, apiToken: string, signingKey: { id: string, jwk: string } }} DevAccount */
/**
 * @typedef {object} ConfigReport
 * @property {string} db the binding of the gateway's D1 database ("DB" unless the host's own database has that name)
 * @property {string} databaseName
 * @property {boolean} hasDatabaseId false: wrangler finds the database by its name, so it must exist before deploying
 * @property {string} queue the audit queue AUDIT_QUEUE sends to (its dead-letter queue is this name with -dlq)
 * @property {string[]} added what was added, by name
 * @property {string[]} present what the config had already, by name
 * @property {string[]} notes what the integrator should know about what was kept
 */

export const INIT_HELP = `npx stream-download-gateway init [--config PATH] [--dry-run]

Adds to your app's wrangler config (wrangler.jsonc, wrangler.json or wrangler.toml here) what the
stream-download-gateway library needs: its D1 database, rate limiters, Durable Objects and their
migration, audit queues and crons; each only where missing, your own entries and comments kept.
Writes the local Stream emulator's dev-only settings into .dev.vars (existing keys kept) and makes
sure .gitignore ignores it.

  --config PATH   the wrangler config to change (default: the first of the three above)
  --dry-run       print what would change, write nothing
  -h, --help      this text

Exit status: 0 done or nothing to do, 1 refused (nothing changed), 2 usage error.
`;

const CONFIG_NAMES = ["wrangler.jsonc", "wrangler.json", "wrangler.toml"];

/** Where an installed app finds the gateway's D1 migrations; a D1 binding using them is the gateway's. */
export const MIGRATIONS_DIR = "node_modules/stream-download-gateway/migrations";
const DEFAULT_WORKER_NAME = "stream-downloads";

/**
 * The gateway's Durable Objects, oldest class first. A release that adds one appends it here, and
 * init then gives the new class a migration of its own: deployed migrations must never change.
 * @type {readonly GatewayDurableObject[]}
 */
export const DURABLE_OBJECTS = [
  { binding: "STREAM_BUDGET", className: "StreamApiBudget" },
  { binding: "USER_QUOTA", className: "UserQuota" },
  { binding: "SHARE_LINKS", className: "ShareLinkObject" },
];
const MIGRATION_TAG = "stream-download-gateway-v";

export const RATE_LIMITERS = [
  { name: "USER_RATE_LIMITER", limit: 60, period: 60 },
  { name: "IP_RATE_LIMITER", limit: 120, period: 60 },
  { name: "LINK_PASSWORD_LIMITER", limit: 10, period: 60 },
];
const FIRST_NAMESPACE_ID = 1001;

export const QUEUE_PRODUCER = { binding: "AUDIT_QUEUE", queue: DEFAULT_QUEUES.audit };
/**
 * The consumers of the audit queue `audit` and its dead-letter queue (named as the gateway's
 * `queues` option derives it), as the gateway's own wrangler.toml, which says why: 5 tries, then
 * the dead-letter queue, whose 100 tries 6 hours apart outlast its 14 days of retention. And the
 * queue Stream's event subscription publishes to (`npm run setup` subscribes it).
 * @param {string} audit
 */
export const queueConsumers = (audit) => {
  const { deadLetter, streamEvents } = queuesOf({ audit });
  return [
    { queue: audit, max_batch_size: 100, max_batch_timeout: 1, max_retries: 5, retry_delay: 60, dead_letter_queue: deadLetter },
    { queue: deadLetter, max_batch_size: 100, max_batch_timeout: 5, max_retries: 100, retry_delay: 21600 },
    { queue: streamEvents, max_batch_size: 100, max_batch_timeout: 1, max_retries: 10 },
  ];
};
const QUEUE_RETENTION_SECONDS = 1_209_600;

export const CRONS = [DEFAULT_CRONS.retention, DEFAULT_CRONS.recheck];

const EMULATOR = "http://localhost:8788";
const STREAM_SECRETS = ["STREAM_ACCOUNT_ID", "STREAM_API_TOKEN", "STREAM_KEY_ID", "STREAM_KEY_JWK"];

/** What the config cannot take without changing what the host wrote: init stops and changes nothing. */
class InitRefusal extends Error {}

/** TOML comments over the appended tables, saying why each is there. */
const TOML_COMMENTS = {
  d1_databases: "The gateway's database: download states, share links, grants and the audit trail.",
  ratelimits: "The gateway's per-user and per-IP download limits, and share-link password attempts (per link).",
  "durable_objects.bindings": "The gateway's Stream API budget and daily quotas: your main module exports their classes.",
  migrations: "Creates the gateway's Durable Object classes. Never edit a migration once deployed.",
  "queues.producers": "The audit trail: each grant's event, written to D1 in batches by the gateway's queue handler.",
  "queues.consumers": "A batch D1 refuses is retried 5 times, then kept in the dead-letter queue, retried every 6 hours.",
  triggers: "The gateway's daily retention, and its re-check of downloads a webhook left unfinished.",
};

/**
 * @param {unknown} value
 * @returns {any[]}
 */
const list = (value) => (Array.isArray(value) ? value : []);

/**
 * What the gateway needs that `config` lacks: entries to append to its arrays (by dotted key) and
 * crons to add, with the report.
 * @param {Record<string, any>} config
 * @param {readonly GatewayDurableObject[]} durableObjects
 */
function planAdditions(config, durableObjects) {
  /** @type {{ key: string, item: Record<string, unknown> }[]} */
  const appends = [];
  /** @type {string[]} */
  const added = [];
  /** @type {string[]} */
  const present = [];
  /** @type {string[]} */
  const notes = [];
  /** @type {(key: string, item: Record<string, unknown>, label: string) => void} */
  const add = (key, item, label) => {
    appends.push({ key, item });
    added.push(label);
  };

  const databases = list(config.d1_databases);
  const same = (/** @type {unknown} */ dir) => typeof dir === "string" && dir.replace(/^\.\//, "").replace(/\/+$/, "") === MIGRATIONS_DIR;
  let db = databases.find((database) => same(database?.migrations_dir));
  if (db) present.push(`D1 ${db.binding}`);
  else {
    const taken = new Set(databases.map((database) => database?.binding));
    const binding = ["DB", "DOWNLOADS_DB"].find((name) => !taken.has(name));
    if (binding === undefined) {
      throw new InitRefusal(
        `DB and DOWNLOADS_DB are both bound to databases of your own: add the gateway's D1 database (migrations_dir = "${MIGRATIONS_DIR}") by hand under another name and pass it to streamDownloads as bindings.DB.`,
      );
    }
    const worker = typeof config.name === "string" && config.name !== "" ? config.name : DEFAULT_WORKER_NAME;
    // No database_id: wrangler 4 runs it locally without one and, remotely, finds the database by
    // its name; a made-up id would instead deploy a binding to a database that does not exist.
    db = { binding, database_name: `${worker}-downloads`, migrations_dir: MIGRATIONS_DIR };
    add("d1_databases", db, `D1 ${binding} (database ${db.database_name})`);
  }

  const limiters = list(config.ratelimits);
  // Namespace ids are the account's, so those of the host's environments are avoided as well.
  const used = new Set(
    [config, ...Object.values(config.env ?? {})].flatMap((section) => list(section?.ratelimits)).map((limiter) => String(limiter?.namespace_id)),
  );
  let next = FIRST_NAMESPACE_ID;
  for (const { name, limit, period } of RATE_LIMITERS) {
    if (limiters.some((limiter) => limiter?.name === name)) {
      present.push(`rate limiter ${name}`);
      continue;
    }
    while (used.has(String(next))) next++;
    const id = String(next);
    used.add(id);
    add("ratelimits", { name, namespace_id: id, simple: { limit, period } }, `rate limiter ${name} (namespace ${id})`);
  }

  const bound = list(config.durable_objects?.bindings);
  for (const { binding, className } of durableObjects) {
    const existing = bound.find((candidate) => candidate?.name === binding);
    if (!existing) add("durable_objects.bindings", { name: binding, class_name: className }, `Durable Object ${binding} (${className})`);
    else {
      present.push(`Durable Object ${binding}`);
      if (existing.class_name !== className) notes.push(`${binding} is bound to class ${existing.class_name}, not the gateway's ${className}: kept as it is.`);
    }
  }

  const migrations = list(config.migrations);
  const created = new Set(migrations.flatMap((migration) => [...list(migration?.new_classes), ...list(migration?.new_sqlite_classes)]));
  const uncreated = durableObjects.map((object) => object.className).filter((name) => !created.has(name));
  if (uncreated.length === 0) present.push(`Durable Object migrations (${durableObjects.map((object) => object.className).join(", ")})`);
  else {
    const tags = new Set(migrations.map((migration) => migration?.tag));
    let n = 1;
    while (tags.has(`${MIGRATION_TAG}${n}`)) n++;
    const tag = `${MIGRATION_TAG}${n}`;
    add("migrations", { tag, new_sqlite_classes: uncreated }, `migration ${tag} (${uncreated.join(", ")})`);
  }

  const producer = list(config.queues?.producers).find((candidate) => candidate?.binding === QUEUE_PRODUCER.binding);
  if (!producer) add("queues.producers", { ...QUEUE_PRODUCER }, `queue producer ${QUEUE_PRODUCER.binding} (${QUEUE_PRODUCER.queue})`);
  else {
    present.push(`queue producer ${QUEUE_PRODUCER.binding}`);
    if (producer.queue !== QUEUE_PRODUCER.queue) {
      notes.push(
        `${QUEUE_PRODUCER.binding} sends to ${producer.queue}, not ${QUEUE_PRODUCER.queue}: kept, with consumers of it and ${producer.queue}-dlq; ` +
          `add to streamDownloads' options: queues: { audit: "${producer.queue}" },`,
      );
    }
  }
  const audit = typeof producer?.queue === "string" ? producer.queue : QUEUE_PRODUCER.queue;
  const consumers = list(config.queues?.consumers);
  for (const consumer of queueConsumers(audit)) {
    if (consumers.some((candidate) => candidate?.queue === consumer.queue)) present.push(`queue consumer ${consumer.queue}`);
    else add("queues.consumers", { ...consumer }, `queue consumer ${consumer.queue}`);
  }

  const crons = list(config.triggers?.crons);
  const missingCrons = CRONS.filter((cron) => !crons.includes(cron));
  for (const cron of CRONS.filter((cron) => crons.includes(cron))) {
    notes.push(`the cron ${cron} was already yours: downloads.worker(app, own) runs the gateway's job on it and then passes it to own.scheduled, so your job keeps running.`);
  }
  for (const cron of CRONS) (missingCrons.includes(cron) ? added : present).push(`cron ${cron}`);

  const environments = Object.keys(config.env ?? {});
  if (environments.length > 0 && appends.length > 0) {
    notes.push(`Environments do not inherit bindings: copy the gateway's into ${environments.map((name) => `env.${name}`).join(", ")} to deploy those.`);
  }

  /** @type {ConfigReport} */
  const report = { db: db.binding, databaseName: db.database_name, hasDatabaseId: Boolean(db.database_id), queue: audit, added, present, notes };
  return { appends, crons: missingCrons, report };
}

/**
 * @param {string} text
 * @param {ConfigFormat} format
 * @returns {Record<string, any>}
 */
function readConfig(text, format) {
  /** @type {unknown} */
  let config;
  if (format === "toml") {
    try {
      config = parseToml(text);
    } catch (error) {
      throw new InitRefusal(`not valid TOML (${String(/** @type {Error} */ (error).message).split("\n")[0]}).`);
    }
  } else {
    /** @type {import("jsonc-parser").ParseError[]} */
    const errors = [];
    config = parseJsonc(text, errors, { allowTrailingComma: true });
    const [first] = errors;
    if (first) throw new InitRefusal(`not valid JSON (${printParseErrorCode(first.error)} at offset ${first.offset}).`);
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new InitRefusal("not a wrangler config (its top level is not an object).");
  return /** @type {Record<string, any>} */ (config);
}

/**
 * A value in TOML, for the few shapes the gateway's entries use.
 * @param {unknown} value
 * @returns {string}
 */
function tomlValue(value) {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (typeof value === "object" && value !== null) return `{ ${Object.entries(value).map(([key, item]) => `${key} = ${tomlValue(item)}`).join(", ")} }`;
  // A JSON string of printable text is a TOML basic string.
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * The string, literal or basic, that starts at `start`: where it ends.
 * @param {string} text
 * @param {number} start
 */
function stringEnd(text, start) {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += quote === '"' && text[i] === "\\" ? 2 : 1;
  return i + 1;
}

/**
 * The array that opens at `open`: where it closes, and where its last string ends (-1: empty).
 * @param {string} text
 * @param {number} open
 */
function tomlArray(text, open) {
  let depth = 0;
  let lastValueEnd = -1;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === "#") {
      const newline = text.indexOf("\n", i);
      if (newline < 0) break;
      i = newline;
    } else if (char === '"' || char === "'") {
      lastValueEnd = stringEnd(text, i);
      i = lastValueEnd - 1;
    } else if (char === "[") depth++;
    else if (char === "]" && --depth === 0) return { close: i, lastValueEnd };
  }
  throw new InitRefusal("its triggers.crons array could not be read: add the gateway's crons to it by hand.");
}

/**
 * Adds `crons` to the [triggers] table the file already has: into its crons array after the last
 * cron, or as a crons line under its header.
 * @param {string} text
 * @param {string[]} crons
 * @param {string} eol
 */
function addTomlCrons(text, crons, eol) {
  const header = /^[ \t]*\[[ \t]*(?:triggers|"triggers")[ \t]*\][ \t]*(?:#.*)?$/m.exec(text);
  if (!header) throw new InitRefusal(`triggers is written inline or as a dotted key, so init cannot add to it: add ${tomlValue(crons)} to triggers.crons by hand.`);
  const start = header.index + header[0].length;
  const nextHeader = text.slice(start).search(/^[ \t]*\[/m);
  const section = text.slice(start, nextHeader < 0 ? text.length : start + nextHeader);
  const line = /^[ \t]*(?:crons|"crons")[ \t]*=[ \t]*\[/m.exec(section);
  if (!line) return `${text.slice(0, start)}${eol}crons = ${tomlValue(crons)}${text.slice(start)}`;
  const open = start + line.index + line[0].length - 1;
  const { lastValueEnd } = tomlArray(text, open);
  const quoted = crons.map(tomlValue).join(", ");
  return lastValueEnd < 0 ? `${text.slice(0, open + 1)}${quoted}${text.slice(open + 1)}` : `${text.slice(0, lastValueEnd)}, ${quoted}${text.slice(lastValueEnd)}`;
}

/**
 * @param {string} text
 * @param {Record<string, any>} config
 * @param {ReturnType<typeof planAdditions>} plan
 */
function editToml(text, config, plan) {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const keys = [...new Set(plan.appends.map((append) => append.key))];
  for (const key of keys) {
    // An array written inline (`key = [ … ]`, or inside an inline table) cannot take [[key]]
    // tables: TOML forbids it, and the parser says so.
    try {
      parseToml(`${text}\n[[${key}]]\n`);
    } catch {
      throw new InitRefusal(`${key} is written inline (as \`= [ … ]\` or inside an inline table), so init cannot append [[${key}]] tables: write it as [[${key}]] tables, or add the gateway's entries by hand.`);
    }
  }
  const blocks = plan.appends.map(({ key, item }, index) => {
    const comment = plan.appends[index - 1]?.key === key ? "" : `# ${TOML_COMMENTS[/** @type {keyof typeof TOML_COMMENTS} */ (key)]}${eol}`;
    const lines = [`[[${key}]]`, ...Object.entries(item).map(([name, value]) => `${name} = ${tomlValue(value)}`)];
    return `${comment}${lines.join(eol)}${eol}`;
  });
  let out = text;
  if (plan.crons.length > 0) {
    if (config.triggers === undefined) blocks.push(`# ${TOML_COMMENTS.triggers}${eol}[triggers]${eol}crons = ${tomlValue(plan.crons)}${eol}`);
    else out = addTomlCrons(out, plan.crons, eol);
  }
  if (blocks.length === 0) return out;
  const separator = out === "" ? "" : out.endsWith("\n") ? eol : `${eol}${eol}`;
  return `${out}${separator}${blocks.join(eol)}`;
}

/**
 * @param {string} text
 * @param {Record<string, any>} config
 * @param {ReturnType<typeof planAdditions>} plan
 */
function editJson(text, config, plan) {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  const formattingOptions = indent?.startsWith("\t") ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent?.length ?? 2, eol };
  let out = text;
  /** @type {(path: (string | number)[], value: unknown) => void} */
  const edit = (path, value) => {
    out = applyEdits(out, modify(out, path, value, { formattingOptions }));
  };
  for (const { key, item } of plan.appends) {
    const path = key.split(".");
    const current = path.reduce((/** @type {any} */ node, name) => node?.[name], parseJsonc(out, [], { allowTrailingComma: true }));
    if (Array.isArray(current)) edit([...path, -1], item);
    else edit(path, [item]);
  }
  if (plan.crons.length > 0) {
    if (Array.isArray(config.triggers?.crons)) for (const cron of plan.crons) edit(["triggers", "crons", -1], cron);
    else edit(["triggers", "crons"], plan.crons);
  }
  return out;
}

/**
 * A parsed config as plain data, for comparing: TOML dates become strings, big integers tagged strings.
 * @param {unknown} config
 */
const plain = (config) => JSON.parse(JSON.stringify(config, (_key, value) => (typeof value === "bigint" ? `${value}n` : value)));

/**
 * The config with what the gateway needs added, in its own format, and a report of what was done.
 * Throws an InitRefusal when that cannot be done without changing what the host wrote.
 * @param {string} text the config file's text
 * @param {ConfigFormat} format "json" covers JSONC
 * @param {{ durableObjects?: readonly GatewayDurableObject[] }} [options] the gateway's Durable Objects (a later release's list, in tests)
 * @returns {{ text: string, report: ConfigReport }}
 */
export function addGatewayConfig(text, format, { durableObjects = DURABLE_OBJECTS } = {}) {
  const config = readConfig(text, format);
  const plan = planAdditions(config, durableObjects);
  for (const key of [...plan.appends.map((append) => append.key), ...(plan.crons.length > 0 ? ["triggers.crons"] : [])]) {
    const path = key.split(".");
    const parent = path.slice(0, -1).reduce((/** @type {any} */ node, name) => node?.[name], config);
    const value = parent?.[/** @type {string} */ (path.at(-1))];
    const isTable = parent === undefined || (typeof parent === "object" && parent !== null && !Array.isArray(parent));
    if (!isTable || (value !== undefined && !Array.isArray(value))) throw new InitRefusal(`${key} is not a list of entries: fix it, then run init again.`);
  }
  const out = format === "toml" ? editToml(text, config, plan) : editJson(text, config, plan);

  const expected = plain(config);
  for (const { key, item } of plan.appends) {
    const path = key.split(".");
    const last = /** @type {string} */ (path.pop());
    const parent = path.reduce((node, name) => (node[name] ??= {}), expected);
    (parent[last] ??= []).push(plain(item));
  }
  if (plan.crons.length > 0) (expected.triggers ??= {}).crons = [...list(expected.triggers.crons), ...plan.crons];
  /** @type {unknown} */
  let written;
  try {
    written = plain(readConfig(out, format));
  } catch {
    written = undefined;
  }
  if (!isDeepStrictEqual(written, expected)) {
    throw new InitRefusal(`its layout did not let init add ${plan.report.added.join(", ")} without changing what is there: add them by hand.`);
  }
  return { text: out, report: plan.report };
}

/**
 * The local emulator's settings: its dev-only account, public in the gateway's repository, and its address.
 * @param {DevAccount} account
 * @param {string} [origin] where the emulator listens
 * @returns {Record<string, string>}
 */
export function emulatorVars(account, origin = EMULATOR) {
  return {
    STREAM_ACCOUNT_ID: account.accountId,
    STREAM_API_TOKEN: account.apiToken,
    STREAM_KEY_ID: account.signingKey.id,
    STREAM_KEY_JWK: account.signingKey.jwk,
    STREAM_API_BASE: `${origin}/client/v4`,
    STREAM_DELIVERY_BASE: origin,
  };
}

/**
 * A .dev.vars with the `vars` it lacks appended under a comment; every line it has is kept.
 * @param {string | undefined} text the file as it is, or undefined when there is none
 * @param {Record<string, string>} vars
 * @returns {{ text: string, added: string[], present: string[] }}
 */
function addDevVars(text, vars) {
  const existing = new Set(
    (text ?? "").split(/\r?\n/).flatMap((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] ?? []),
  );
  const names = Object.keys(vars);
  const added = names.filter((name) => !existing.has(name));
  const present = names.filter((name) => existing.has(name));
  if (added.length === 0) return { text: text ?? "", added, present };
  const eol = text?.includes("\r\n") ? "\r\n" : "\n";
  const lines = [
    "# Dev-only values for the local Stream emulator (`npx stream-download-gateway emulator`): public, never valid at Stream.",
    ...added.map((name) => `${name}=${vars[name]}`),
  ];
  const before = text === undefined || text === "" ? "" : text.endsWith("\n") ? text : `${text}${eol}`;
  return { text: `${before}${lines.join(eol)}${eol}`, added, present };
}

/**
 * Whether a .gitignore ignores the .dev.vars beside it: its patterns that can match a file at its
 * own level, the last match deciding, as git does.
 * @param {string} text
 */
export function ignoresDevVars(text) {
  let ignored = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.endsWith("/")) continue;
    const negated = line.startsWith("!");
    const pattern = (negated ? line.slice(1) : line).replace(/^(?:\*\*)?\//, "");
    const glob = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
    if (new RegExp(`^${glob}$`).test(".dev.vars")) ignored = !negated;
  }
  return ignored;
}

class UsageError extends Error {}

/**
 * @param {string} cwd
 * @param {string | undefined} given
 */
function findConfig(cwd, given) {
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) throw new UsageError(`--config ${given}: no such file.`);
    return path;
  }
  const path = CONFIG_NAMES.map((name) => join(cwd, name)).find((candidate) => existsSync(candidate));
  if (path === undefined) {
    throw new UsageError(`No wrangler config in ${cwd} (${CONFIG_NAMES.join(", ")}): run init in your app's directory, or pass --config PATH.`);
  }
  return path;
}

/**
 * @param {string} path
 * @returns {Promise<string | undefined>}
 */
const readIfThere = async (path) => (existsSync(path) ? readFile(path, "utf8") : undefined);

/**
 * `init` with the arguments after it: 0 done or nothing to do, 1 refused (nothing written), 2 usage error.
 * @param {string[]} argv
 * @param {{ cwd: string, out: { write(text: string): unknown }, devAccount: DevAccount }} context
 * @returns {Promise<number>}
 */
export async function runInit(argv, { cwd, out, devAccount }) {
  let configPath;
  let dryRun;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: "string" }, "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out.write(INIT_HELP);
      return 0;
    }
    configPath = findConfig(cwd, values.config);
    dryRun = values["dry-run"] ?? false;
    if (![".toml", ".json", ".jsonc"].includes(extname(configPath))) throw new UsageError(`${configPath}: a wrangler config is .toml, .json or .jsonc.`);
  } catch (error) {
    out.write(`${/** @type {Error} */ (error).message}\n\n${INIT_HELP}`);
    return 2;
  }

  const shown = relative(cwd, configPath) || configPath;
  const dir = dirname(configPath);
  const original = await readFile(configPath, "utf8");
  let config;
  try {
    config = addGatewayConfig(original, extname(configPath) === ".toml" ? "toml" : "json");
  } catch (error) {
    if (!(error instanceof InitRefusal)) throw error;
    out.write(`${shown}: ${error.message}\nNothing was changed.\n`);
    return 1;
  }
  const devVarsPath = join(dir, ".dev.vars");
  const devVarsBefore = await readIfThere(devVarsPath);
  const devVars = addDevVars(devVarsBefore, emulatorVars(devAccount));
  const gitignorePath = join(dir, ".gitignore");
  const gitignore = await readIfThere(gitignorePath);
  const ignore = gitignore === undefined ? ".dev.vars\n" : ignoresDevVars(gitignore) ? undefined : `${gitignore}${gitignore === "" || gitignore.endsWith("\n") ? "" : "\n"}.dev.vars\n`;

  /** @type {[string, string, number?][]} */
  const writes = [];
  if (config.text !== original) writes.push([configPath, config.text]);
  // Created private: it will hold the real secrets once the integrator puts them there.
  if (devVars.added.length > 0) writes.push([devVarsPath, devVars.text, devVarsBefore === undefined ? 0o600 : undefined]);
  if (ignore !== undefined) writes.push([gitignorePath, ignore]);
  if (!dryRun) for (const [path, text, mode] of writes) await writeFile(path, text, mode === undefined ? {} : { mode });

  const { report } = config;
  const verb = dryRun ? "would add" : "added";
  const lines = [];
  if (writes.length === 0) lines.push(`Nothing to do: ${shown}, .dev.vars and .gitignore have what the gateway needs.`);
  else if (dryRun) lines.push("Dry run: nothing written.");
  lines.push(`${shown}:`);
  if (report.added.length > 0) lines.push(`  ${verb}:`, ...report.added.map((item) => `    ${item}`));
  if (report.present.length > 0) lines.push(`  already there: ${report.present.join(", ")}`);
  for (const note of report.notes) lines.push(`  note: ${note}`);
  lines.push(".dev.vars (dev-only values for the local emulator):");
  if (devVars.added.length > 0) lines.push(`  ${verb}: ${devVars.added.join(", ")}`);
  if (devVars.present.length > 0) lines.push(`  already there: ${devVars.present.join(", ")}`);
  if (devVarsBefore === undefined && existsSync(join(dir, ".env"))) {
    lines.push("  note: wrangler dev reads .dev.vars instead of .env when both exist: move your .env values into .dev.vars.");
  }
  if (ignore !== undefined) lines.push(`.gitignore: ${verb} .dev.vars`);

  const classes = DURABLE_OBJECTS.map((object) => object.className).join(", ");
  lines.push(
    "",
    `Your Worker's main module exports the gateway's classes: export { ${classes} } from "stream-download-gateway";`,
  );
  if (report.db !== "DB") {
    lines.push(`DB is your own database, so the gateway's is ${report.db}: add this line to streamDownloads' options:`, `  bindings: { ...env, DB: env.${report.db} },`);
  }
  lines.push(
    "",
    "Next:",
    `  npx wrangler d1 migrations apply ${report.db} --local`,
    "  npx stream-download-gateway emulator        (in another terminal: the local Stream)",
    "  npx wrangler dev",
    "",
    "Before deploying:",
  );
  if (!report.hasDatabaseId) {
    lines.push(`  npx wrangler d1 create ${report.databaseName}   (wrangler then finds it by its database_name; if it offers to add it to your config, say no)`);
  }
  lines.push(
    `  npx wrangler d1 migrations apply ${report.db} --remote`,
    ...queueConsumers(report.queue).map((consumer) => `  npx wrangler queues create ${consumer.queue} --message-retention-period-secs ${QUEUE_RETENTION_SECONDS}`),
    ...STREAM_SECRETS.map((name) => `  npx wrangler secret put ${name}${name === "STREAM_API_TOKEN" ? "   (not with a STREAM binding)" : ""}`),
    "  and STREAM_DELIVERY_BASE (https://customer-<code>.cloudflarestream.com) in your config's vars",
    "",
  );
  out.write(lines.join("\n"));
  return 0;
}
