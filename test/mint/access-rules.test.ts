import { describe, expect, test } from "vitest";
import { type AccessInput, countryPermitted, decideAccess } from "../../src/mint/access-rules";
import { coarseNetwork } from "../../src/http/networks";

const set = (...codes: string[]) => new Set(codes);

function decide(input: Partial<AccessInput>) {
  return decideAccess({
    allowedCountries: null,
    blockedCountries: null,
    lockToIp: false,
    clientIp: null,
    throughGateway: false,
    ...input,
  });
}

const NO_CHECK = { allow: null, block: null };

describe("decideAccess in redirect mode", () => {
  test("no restriction gives no rules and nothing for the gateway to check", () => {
    expect(decide({})).toEqual({ rules: [], gatewayCheck: NO_CHECK, via: { kind: "stream-url" } });
  });

  test("an allow list becomes allow <sorted codes>, then block everyone else, and the gateway checks it too", () => {
    expect(decide({ allowedCountries: set("GB", "DE", "FR") })).toEqual({
      rules: [
        { type: "ip.geoip.country", action: "allow", country: ["DE", "FR", "GB"] },
        { type: "any", action: "block" },
      ],
      gatewayCheck: { allow: set("GB", "DE", "FR"), block: null },
      via: { kind: "stream-url" },
    });
  });

  test("a block list alone becomes one block rule with sorted codes", () => {
    expect(decide({ blockedCountries: set("RU", "KP", "IR") }).rules).toEqual([
      { type: "ip.geoip.country", action: "block", country: ["IR", "KP", "RU"] },
    ]);
  });

  test("blocked codes are removed from the allow list instead of becoming a rule that would never run", () => {
    expect(decide({ allowedCountries: set("US", "GB", "CA"), blockedCountries: set("US", "CN") }).rules).toEqual([
      { type: "ip.geoip.country", action: "allow", country: ["CA", "GB"] },
      { type: "any", action: "block" },
    ]);
  });

  test("an allow list emptied by the block list blocks everyone", () => {
    expect(decide({ allowedCountries: set("US"), blockedCountries: set("US") }).rules).toEqual([
      { type: "any", action: "block" },
    ]);
  });

  test("a share link's countries are intersected with ALLOWED_COUNTRIES", () => {
    expect(decide({ allowedCountries: set("GB", "FR", "DE"), linkCountries: set("FR", "US", "GB") }).rules).toEqual([
      { type: "ip.geoip.country", action: "allow", country: ["FR", "GB"] },
      { type: "any", action: "block" },
    ]);
  });

  test("a share link's countries apply alone when nothing is configured, minus the blocked ones", () => {
    expect(decide({ linkCountries: set("NL", "BE"), blockedCountries: set("BE") }).rules).toEqual([
      { type: "ip.geoip.country", action: "allow", country: ["NL"] },
      { type: "any", action: "block" },
    ]);
  });

  test("a share link whose countries do not overlap ALLOWED_COUNTRIES blocks everyone", () => {
    expect(decide({ allowedCountries: set("GB"), linkCountries: set("US") }).rules).toEqual([
      { type: "any", action: "block" },
    ]);
  });

  test("an IP lock never becomes an ip.src rule (a rule names one address family and Stream ignores it for the other): the grant goes through the gateway, bound to the client's network, and the gateway checks the countries", () => {
    const decision = decide({
      lockToIp: true,
      clientIp: "203.0.113.7",
      allowedCountries: set("GB"),
      blockedCountries: set("RU"),
    });
    expect(decision).toEqual({
      rules: [],
      gatewayCheck: { allow: set("GB"), block: set("RU") },
      via: { kind: "gateway", network: "203.0.113.7/32" },
    });
  });

  test.each([
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8::/64"],
    ["::1", "::/64"],
    ["0:0:1:2::9", "0:0:1:2::/64"],
    ["2001:0:0:5:ffff::", "2001:0:0:5::/64"],
    ["fe80::1:2:3:4", "fe80::/64"],
    ["64:ff9b::192.0.2.33", "64:ff9b::/64"],
    ["::ffff:198.51.100.1", "198.51.100.1/32"],
    ["::ffff:c633:6401", "198.51.100.1/32"],
  ])("an IPv6 lock on %s binds the grant to the canonical /64 network (an IPv4-mapped one to its IPv4 address) %s", (clientIp, network) => {
    expect(decide({ lockToIp: true, clientIp }).via).toEqual({ kind: "gateway", network });
  });

  test.each([null, "not-an-ip", "1.2.3", "203.0.113.256", "01.2.3.4", "2001:db8::1::2", "1:2:3:4:5:6:7:8:9"])(
    "an IP lock without a usable client address (%s) still goes through the gateway, unbound, with the gateway's country check",
    (clientIp) => {
      expect(decide({ lockToIp: true, clientIp, allowedCountries: set("GB") })).toEqual({
        rules: [],
        gatewayCheck: { allow: set("GB"), block: null },
        via: { kind: "gateway", network: null },
      });
    },
  );
});

describe("decideAccess in stream mode", () => {
  test("puts no rules in the token (Stream sees the Worker), hands the countries to the gateway and binds the ticket to the client's network", () => {
    expect(
      decide({
        throughGateway: true,
        lockToIp: true,
        clientIp: "203.0.113.7",
        allowedCountries: set("GB", "FR"),
        linkCountries: set("FR"),
        blockedCountries: set("RU"),
      }),
    ).toEqual({ rules: [], gatewayCheck: { allow: set("FR"), block: set("RU") }, via: { kind: "gateway", network: "203.0.113.7/32" } });
  });

  test("an IPv6 client's ticket is bound to its /64, and no lock binds nothing", () => {
    expect(decide({ throughGateway: true, lockToIp: true, clientIp: "2001:db8:1:2:aaaa::7" }).via).toEqual({ kind: "gateway", network: "2001:db8:1:2::/64" });
    expect(decide({ throughGateway: true, lockToIp: false, clientIp: "203.0.113.7" }).via).toEqual({ kind: "gateway", network: null });
  });

  test("without any country setting there is nothing to check", () => {
    expect(decide({ throughGateway: true })).toEqual({ rules: [], gatewayCheck: NO_CHECK, via: { kind: "gateway", network: null } });
  });
});

test("no combination of inputs yields more than 3 rules", () => {
  const countries = [null, set(), set("GB"), set("GB", "US")];
  for (const allowedCountries of countries)
    for (const blockedCountries of countries)
      for (const linkCountries of countries)
        for (const lockToIp of [false, true])
          for (const clientIp of [null, "203.0.113.7", "2001:db8::1"])
            for (const throughGateway of [false, true]) {
              const { rules } = decideAccess({ allowedCountries, blockedCountries, linkCountries, lockToIp, clientIp, throughGateway });
              expect(rules.length).toBeLessThanOrEqual(3);
              for (const rule of rules) if (rule.country) expect(rule.country.length).toBeGreaterThan(0);
            }
});

describe("countryPermitted", () => {
  test("with an allow list, only listed countries pass and an unknown country does not", () => {
    const check = { allow: set("GB", "FR"), block: null };
    expect(countryPermitted(check, "GB")).toBe(true);
    expect(countryPermitted(check, "gb")).toBe(true);
    expect(countryPermitted(check, "US")).toBe(false);
    for (const unknown of [null, "XX", "T1", "", "GBR"]) expect(countryPermitted(check, unknown)).toBe(false);
  });

  test("with a block list only, listed countries fail and unknown countries pass", () => {
    const check = { allow: null, block: set("RU") };
    expect(countryPermitted(check, "RU")).toBe(false);
    expect(countryPermitted(check, "GB")).toBe(true);
    for (const unknown of [null, "XX", "T1"]) expect(countryPermitted(check, unknown)).toBe(true);
  });

  test("the block list wins over the allow list", () => {
    expect(countryPermitted({ allow: set("US", "GB"), block: set("US") }, "US")).toBe(false);
  });

  test("an empty allow list refuses everyone; no lists permit everyone", () => {
    expect(countryPermitted({ allow: set(), block: null }, "GB")).toBe(false);
    expect(countryPermitted({ allow: null, block: null }, null)).toBe(true);
    expect(countryPermitted({ allow: null, block: null }, "XX")).toBe(true);
  });

  test("agrees with the decision for a stream-mode request", () => {
    const { gatewayCheck } = decide({ throughGateway: true, allowedCountries: set("GB", "US"), blockedCountries: set("US") });
    expect(countryPermitted(gatewayCheck, "GB")).toBe(true);
    expect(countryPermitted(gatewayCheck, "US")).toBe(false);
    expect(countryPermitted(gatewayCheck, "DE")).toBe(false);
  });
});

describe("coarseNetwork (the networks a share link's leak check counts)", () => {
  test.each([
    ["203.0.113.77", "203.0.113.0/24"],
    ["::ffff:203.0.113.77", "203.0.113.0/24"],
    ["2001:db8:1:a::1", "2001:db8:1::/48"],
    ["2001:0db8:0001:ffff:1:2:3:4", "2001:db8:1::/48"],
    ["not an ip", null],
    ["203.0.113", null],
  ])("%s → %s", (ip, network) => {
    expect(coarseNetwork(ip)).toBe(network);
  });
});
