// A token's `accessRules` claim (docs/stream-behaviour.md §3): at most 5 rules, evaluated first to last,
// the first match decides, and a token with no matching rule is valid. The address parsing here
// deliberately shares no code with the gateway's src/mint/access-rules.ts: the emulator is the
// second, independent implementation that checks what the gateway mints.

export type AccessRule = {
  type: "any" | "ip.src" | "ip.geoip.country";
  action: "allow" | "block";
  ip?: string[];
  country?: string[];
};

const MAX_RULES = 5;
const RULE_TYPES: readonly AccessRule["type"][] = ["any", "ip.src", "ip.geoip.country"];
const ACTIONS: readonly AccessRule["action"][] = ["allow", "block"];
// Cloudflare reports these when it cannot place a client: unknown and Tor. A rule naming them
// must not let such a client through as if it were located.
const UNLOCATED_COUNTRIES = new Set(["XX", "T1"]);

type Address = { family: 4 | 6; bytes: Uint8Array };
type Network = Address & { prefix: number };

export function parseAccessRules(
  value: unknown,
): { ok: true; rules: AccessRule[] } | { ok: false; reason: string } {
  if (value === undefined) return { ok: true, rules: [] };
  if (!Array.isArray(value)) return { ok: false, reason: "accessRules must be an array" };
  if (value.length > MAX_RULES) {
    return { ok: false, reason: `accessRules allows at most ${MAX_RULES} rules` };
  }
  const rules: AccessRule[] = [];
  for (const [index, candidate] of value.entries()) {
    const parsed = parseRule(candidate, `accessRules[${index}]`);
    if (typeof parsed === "string") return { ok: false, reason: parsed };
    rules.push(parsed);
  }
  return { ok: true, rules };
}

export function evaluateAccessRules(
  rules: AccessRule[],
  client: { ip: string | null; country: string | null },
): { allowed: true } | { allowed: false; rule: number } {
  const address = client.ip === null ? null : parseAddress(client.ip);
  const country = client.country?.toUpperCase() ?? null;
  for (const [index, rule] of rules.entries()) {
    if (!matches(rule, address, country)) continue;
    return rule.action === "allow" ? { allowed: true } : { allowed: false, rule: index };
  }
  return { allowed: true };
}

// Returns the rule, or the reason it is invalid. Fields that do not belong to the rule's type
// are dropped rather than rejected: they cannot change the outcome.
function parseRule(candidate: unknown, where: string): AccessRule | string {
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) {
    return `${where} must be an object`;
  }
  const { type, action, ip, country } = candidate as Record<string, unknown>;
  if (!isOneOf(RULE_TYPES, type)) return `${where}.type must be one of ${RULE_TYPES.join(", ")}`;
  if (!isOneOf(ACTIONS, action)) return `${where}.action must be allow or block`;
  const rule: AccessRule = { type, action };
  if (rule.type === "ip.src") {
    const list = nonEmptyStrings(ip, `${where}.ip`);
    if (typeof list === "string") return list;
    const bad = list.findIndex((entry) => parseNetwork(entry) === null);
    if (bad !== -1) return `${where}.ip[${bad}] is not an IP address or CIDR`;
    rule.ip = list;
  }
  if (rule.type === "ip.geoip.country") {
    const list = nonEmptyStrings(country, `${where}.country`);
    if (typeof list === "string") return list;
    const bad = list.findIndex((entry) => !/^[A-Z]{2}$/.test(entry));
    if (bad !== -1) return `${where}.country[${bad}] is not a two-letter uppercase country code`;
    rule.country = list;
  }
  return rule;
}

function isOneOf<T extends string>(known: readonly T[], value: unknown): value is T {
  return known.some((entry) => entry === value);
}

function nonEmptyStrings(value: unknown, where: string): string[] | string {
  if (!Array.isArray(value) || value.length === 0) return `${where} must be a non-empty array`;
  if (!value.every((entry) => typeof entry === "string")) return `${where} must hold strings`;
  return value;
}

function matches(rule: AccessRule, address: Address | null, country: string | null): boolean {
  switch (rule.type) {
    case "any":
      return true;
    case "ip.src":
      return (
        address !== null &&
        (rule.ip ?? []).some((entry) => {
          const network = parseNetwork(entry);
          return network !== null && contains(network, address);
        })
      );
    case "ip.geoip.country":
      return (
        country !== null &&
        !UNLOCATED_COUNTRIES.has(country) &&
        (rule.country ?? []).includes(country)
      );
  }
}

// v4 and v6 are separate families (docs/stream-behaviour.md §3): a v4 client never falls inside a v6
// network, not even ::ffff:0:0/96.
function contains(network: Network, address: Address): boolean {
  if (network.family !== address.family) return false;
  const fullBytes = Math.floor(network.prefix / 8);
  for (let i = 0; i < fullBytes; i++) {
    if (network.bytes[i] !== address.bytes[i]) return false;
  }
  const restBits = network.prefix % 8;
  if (restBits === 0) return true;
  const mask = (0xff << (8 - restBits)) & 0xff;
  return ((network.bytes[fullBytes] ?? 0) & mask) === ((address.bytes[fullBytes] ?? 0) & mask);
}

// A bare address is a network of one host. Host bits beyond the prefix are tolerated.
function parseNetwork(text: string): Network | null {
  const slash = text.indexOf("/");
  const address = parseAddress(slash === -1 ? text : text.slice(0, slash));
  if (address === null) return null;
  const maxPrefix = address.family === 4 ? 32 : 128;
  if (slash === -1) return { ...address, prefix: maxPrefix };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= maxPrefix ? { ...address, prefix } : null;
}

function parseAddress(text: string): Address | null {
  if (text.includes(":")) {
    const bytes = parseIPv6(text);
    return bytes && { family: 6, bytes };
  }
  const bytes = parseIPv4(text);
  return bytes && { family: 4, bytes };
}

// Strict dotted quad: leading zeros are refused because some parsers read them as octal.
function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    bytes[i] = octet;
  }
  return bytes;
}

// RFC 4291 §2.2 text forms: eight groups, one optional `::`, and an optional dotted-quad tail.
function parseIPv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  }
  return bytes;
}

// `mayEndWithIPv4` is true only for the part that ends the address.
function parseGroups(text: string, mayEndWithIPv4: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (mayEndWithIPv4 && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIPv4(part);
      if (v4 === null) return null;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}
