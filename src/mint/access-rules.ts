// Who may fetch a minted download (docs/design.md › Access rules). Stream applies the FIRST matching rule
// and treats a token with no matching rule as valid, so the rules are built here as one
// decision rather than concatenated per source: an appended "block X" after an "allow" would never
// run, and a lone "allow X" without a final "any block" would let everyone else through.
import { COUNTRY_CODE } from "../config/config";
import { clientNetwork } from "../http/networks";

export type AccessRule = {
  type: "any" | "ip.geoip.country";
  action: "allow" | "block";
  country?: string[];
};

export interface AccessInput {
  allowedCountries: ReadonlySet<string> | null;
  blockedCountries: ReadonlySet<string> | null;
  /** A share link's own country list; an empty set allows no country, `null` means no restriction. */
  linkCountries?: ReadonlySet<string> | null;
  lockToIp: boolean;
  clientIp: string | null;
  /** The grant is delivered through the gateway (its /d/<ticket>), which sees every fetch. */
  throughGateway: boolean;
}

export interface AccessDecision {
  rules: AccessRule[];
  /** countries the gateway itself must enforce now, before minting/fetching */
  gatewayCheck: { allow: ReadonlySet<string> | null; block: ReadonlySet<string> | null };
  /**
   * How the grant is delivered: a Stream URL carrying `rules`, or through the gateway's own
   * `/d/<ticket>`, bound to `network` when the grant is IP-locked.
   */
  via: { kind: "stream-url" } | { kind: "gateway"; network: string | null };
}

const BLOCK_ALL: AccessRule = { type: "any", action: "block" };

// What Cloudflare reports when it cannot place a client: unknown and Tor.
const UNLOCATED = new Set(["XX", "T1"]);

export function decideAccess(input: AccessInput): AccessDecision {
  const allow = effectiveAllow(input.allowedCountries, input.linkCountries ?? null);
  const block = input.blockedCountries !== null && input.blockedCountries.size > 0 ? input.blockedCountries : null;
  const countries = { allow, block };

  // An IP lock is held where the client's address is known, the gateway: Stream's docs say a rule
  // naming one address family ignores the other and rules are evaluated continuously, so an
  // `ip.src` rule would block the same person reaching Stream over the other family or another
  // exit. IP-locked grants are therefore always delivered through the gateway, where Stream sees
  // the Worker and the gateway checks the countries itself.
  if (input.lockToIp || input.throughGateway) {
    // On Cloudflare's edge CF-Connecting-IP is always set and cannot be forged by the client, so
    // an unknown (or unparseable) address only happens off the edge (local development, tests).
    const network = input.lockToIp && input.clientIp !== null ? clientNetwork(input.clientIp) : null;
    return { rules: [], gatewayCheck: countries, via: { kind: "gateway", network } };
  }

  // The token's rules bind the download; the gateway checks the same countries now as well, so
  // that a refused client gets our clear 403 instead of Stream's bare one after the redirect.
  return { rules: countryRules(allow, block), gatewayCheck: countries, via: { kind: "stream-url" } };
}

/** Whether a client in `country` (as `request.cf.country` reports it) passes the gateway's check. */
export function countryPermitted(check: AccessDecision["gatewayCheck"], country: string | null): boolean {
  const code = country?.toUpperCase() ?? null;
  // Same semantics as Stream's rules: an unplaced client matches no country rule, so it is
  // refused by an allow list (it is not on it) and passes a block list (it is not on it either).
  const located = code !== null && COUNTRY_CODE.test(code) && !UNLOCATED.has(code) ? code : null;
  if (located !== null && check.block?.has(located)) return false;
  if (check.allow !== null) return located !== null && check.allow.has(located);
  return true;
}

function effectiveAllow(
  allowed: ReadonlySet<string> | null,
  link: ReadonlySet<string> | null,
): ReadonlySet<string> | null {
  if (allowed !== null && link !== null) return new Set([...link].filter((code) => allowed.has(code)));
  return link ?? allowed;
}

function countryRules(allow: ReadonlySet<string> | null, block: ReadonlySet<string> | null): AccessRule[] {
  if (allow !== null) {
    const permitted = [...allow].filter((code) => !block?.has(code)).sort();
    // Stream refuses an empty country list, and "allow nothing" must not degrade to "no rules".
    if (permitted.length === 0) return [BLOCK_ALL];
    return [{ type: "ip.geoip.country", action: "allow", country: permitted }, BLOCK_ALL];
  }
  if (block !== null) return [{ type: "ip.geoip.country", action: "block", country: [...block].sort() }];
  return [];
}
