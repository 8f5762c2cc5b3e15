import { describe, expect, test } from "vitest";
import {
  type AccessRule,
  evaluateAccessRules,
  parseAccessRules,
} from "../../../emulator/src/delivery/access-rules";

const from = (ip: string | null, country: string | null = null) => ({ ip, country });

function rules(value: unknown): AccessRule[] {
  const parsed = parseAccessRules(value);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.rules;
}

function ipRule(action: AccessRule["action"], ...ip: string[]): AccessRule {
  return { type: "ip.src", action, ip };
}

function countryRule(...country: string[]): AccessRule {
  return { type: "ip.geoip.country", action: "allow", country };
}

describe("evaluateAccessRules", () => {
  test("the first matching rule decides: allow before block lets the client in", () => {
    const list = rules([
      { type: "ip.geoip.country", action: "allow", country: ["GB"] },
      { type: "any", action: "block" },
    ]);
    expect(evaluateAccessRules(list, from("192.0.2.1", "GB"))).toEqual({ allowed: true });
    expect(evaluateAccessRules(list, from("192.0.2.1", "US"))).toEqual({ allowed: false, rule: 1 });
  });

  test("the first matching rule decides: block before allow keeps the client out", () => {
    const list = rules([
      { type: "ip.src", action: "block", ip: ["192.0.2.0/24"] },
      { type: "any", action: "allow" },
    ]);
    expect(evaluateAccessRules(list, from("192.0.2.77"))).toEqual({ allowed: false, rule: 0 });
    expect(evaluateAccessRules(list, from("198.51.100.1"))).toEqual({ allowed: true });
  });

  test("a token with no matching rule, or no rules, is valid", () => {
    const list = rules([{ type: "ip.geoip.country", action: "block", country: ["FR"] }]);
    expect(evaluateAccessRules(list, from("192.0.2.1", "DE"))).toEqual({ allowed: true });
    expect(evaluateAccessRules([], from(null))).toEqual({ allowed: true });
  });

  test.each([
    ["10.0.0.0/8", "10.255.3.4", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["203.0.113.9/32", "203.0.113.9", true],
    ["203.0.113.9/32", "203.0.113.10", false],
    ["203.0.113.9", "203.0.113.9", true],
    ["192.168.0.0/23", "192.168.1.255", true],
    ["192.168.0.0/23", "192.168.2.0", false],
    ["::1", "::1", true],
    ["::1", "::2", false],
    ["::/0", "2001:db8::1", true],
    ["2001:db8::/32", "2001:db8:ffff:1::abcd", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["2001:db8:1:2::/64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", true],
    ["2001:db8:1:2::/64", "2001:db8:1:3::", false],
    ["2001:db8::5/128", "2001:0db8:0000:0000:0000:0000:0000:0005", true],
    ["2001:db8::5/128", "2001:db8::6", false],
    ["::ffff:192.0.2.0/120", "::ffff:192.0.2.200", true],
  ])("ip.src %s against client %s matches: %s", (cidr, client, expected) => {
    const decision = evaluateAccessRules(rules([ipRule("block", cidr)]), from(client));
    expect(decision.allowed).toBe(!expected);
  });

  test("IPv4 and IPv6 are matched separately", () => {
    const v6Everything = rules([ipRule("block", "::/0")]);
    const v4Everything = rules([ipRule("block", "0.0.0.0/0")]);
    expect(evaluateAccessRules(v6Everything, from("192.0.2.1"))).toEqual({ allowed: true });
    expect(evaluateAccessRules(v4Everything, from("2001:db8::1"))).toEqual({ allowed: true });
    // Even the v4-mapped range does not capture a plain v4 client.
    const mapped = rules([ipRule("block", "::ffff:0:0/96")]);
    expect(evaluateAccessRules(mapped, from("192.0.2.1"))).toEqual({ allowed: true });
  });

  test("any listed network in an ip.src rule is enough", () => {
    const list = rules([ipRule("block", "198.51.100.0/24", "2001:db8::/32")]);
    expect(evaluateAccessRules(list, from("2001:db8::1"))).toEqual({ allowed: false, rule: 0 });
    expect(evaluateAccessRules(list, from("198.51.100.3"))).toEqual({ allowed: false, rule: 0 });
  });

  test("a missing or unparseable client IP never matches an ip.src rule", () => {
    const list = rules([ipRule("block", "0.0.0.0/0", "::/0")]);
    expect(evaluateAccessRules(list, from(null))).toEqual({ allowed: true });
    expect(evaluateAccessRules(list, from("not-an-ip"))).toEqual({ allowed: true });
    expect(evaluateAccessRules(list, from("256.1.1.1"))).toEqual({ allowed: true });
  });

  test("country rules allow and block, comparing case-insensitively", () => {
    const list = rules([
      { type: "ip.geoip.country", action: "block", country: ["RU", "KP"] },
      { type: "ip.geoip.country", action: "allow", country: ["GB"] },
      { type: "any", action: "block" },
    ]);
    expect(evaluateAccessRules(list, from(null, "kp"))).toEqual({ allowed: false, rule: 0 });
    expect(evaluateAccessRules(list, from(null, "gb"))).toEqual({ allowed: true });
    expect(evaluateAccessRules(list, from(null, "US"))).toEqual({ allowed: false, rule: 2 });
  });

  test("an unknown, unlocated or Tor client country never matches", () => {
    // Built by hand: parseAccessRules would refuse "T1", but the guard must not rely on that.
    const list: AccessRule[] = [
      { type: "ip.geoip.country", action: "allow", country: ["XX", "T1", "US"] },
      { type: "any", action: "block" },
    ];
    for (const country of [null, "XX", "T1", "xx"]) {
      expect(evaluateAccessRules(list, from(null, country))).toEqual({ allowed: false, rule: 1 });
    }
  });
});

describe("parseAccessRules", () => {
  test("an absent claim means no rules", () => {
    expect(parseAccessRules(undefined)).toEqual({ ok: true, rules: [] });
    expect(parseAccessRules([])).toEqual({ ok: true, rules: [] });
  });

  test("keeps valid rules in order", () => {
    const value = [
      { type: "ip.src", action: "allow", ip: ["2001:db8::/32", "192.0.2.1", "1:2:3:4:5:6:7::"] },
      { type: "ip.geoip.country", action: "allow", country: ["GB"] },
      { type: "any", action: "block" },
    ];
    expect(parseAccessRules(value)).toEqual({ ok: true, rules: value });
  });

  test("accepts five rules and rejects six", () => {
    const rule = { type: "any", action: "allow" };
    expect(parseAccessRules(Array(5).fill(rule)).ok).toBe(true);
    expect(parseAccessRules(Array(6).fill(rule))).toEqual({
      ok: false,
      reason: "accessRules allows at most 5 rules",
    });
  });

  test.each([
    ["null", null, "accessRules must be an array"],
    ["an object", { type: "any", action: "allow" }, "accessRules must be an array"],
    ["a non-object rule", ["any"], "accessRules[0] must be an object"],
    ["an unknown type", [{ type: "ip.dst", action: "allow" }], "accessRules[0].type"],
    ["a missing action", [{ type: "any" }], "accessRules[0].action"],
    ["an unknown action", [{ type: "any", action: "deny" }], "accessRules[0].action"],
    ["ip.src without ip", [{ type: "ip.src", action: "block" }], "accessRules[0].ip"],
    ["ip.src with []", [{ type: "ip.src", action: "block", ip: [] }], "accessRules[0].ip"],
    ["a number as ip", [{ type: "ip.src", action: "block", ip: [1] }], "accessRules[0].ip"],
    ["country without list", [{ type: "ip.geoip.country", action: "allow" }], ".country"],
    ["a lowercase country", [countryRule("gb")], "accessRules[0].country[0]"],
    ["a 3-letter country", [countryRule("GBR")], "accessRules[0].country[0]"],
  ])("rejects %s", (_name, value, reason) => {
    const parsed = parseAccessRules(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });

  test.each([
    "10.0.0.0/33",
    "2001:db8::/129",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0",
    "10.0.0.256",
    "010.0.0.1",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "12345::",
    ":::",
    "g::1",
    "::1.2.3",
    "",
    "example.com",
  ])("rejects the ip entry %j", (entry) => {
    const parsed = parseAccessRules([ipRule("allow", "192.0.2.1", entry)]);
    expect(parsed).toEqual({
      ok: false,
      reason: "accessRules[0].ip[1] is not an IP address or CIDR",
    });
  });
});
