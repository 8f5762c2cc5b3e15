// Step 4, shared by signed-in downloads and share links: the access decision for this client, and
// what a grant is minted from. A delivery mode (deliver/modes.ts) mints the grant itself: a Stream
// token, or the gateway's own ticket. Every request that reaches a mode's `mint` is a grant,
// whatever its Range header: resuming happens at the URL a grant ends at (Stream's tokenized URL,
// or /d/<ticket>), never by a Range on a granting request.
import type { Config, DownloadType } from "../config/config";
import type { ClientInfo } from "../http/client";
import { Problem } from "../problems";
import { countryPermitted, decideAccess, type AccessDecision } from "./access-rules";
import type { TicketKey } from "./ticket";
import type { Signer } from "./token";

export type Access = Pick<AccessDecision, "rules" | "via" | "gatewayCheck">;

/** What the access decision reads: the settings and who is asking. */
export interface AccessDeps {
  config: Config;
  client: ClientInfo;
}

/**
 * The access decision for this client (docs/design.md › Access rules), for a grant delivered
 * through the gateway or not; refuses here what the gateway must enforce itself.
 */
export function accessFor(
  d: AccessDeps,
  throughGateway: boolean,
  link: { countries: string[] | null; lockToIp: boolean } | null = null,
): Access {
  const lockToIp = d.config.lockToClientIp || (link?.lockToIp ?? false);
  const access = decideAccess({
    allowedCountries: d.config.allowedCountries,
    blockedCountries: d.config.blockedCountries,
    linkCountries: link?.countries ? new Set(link.countries) : null,
    lockToIp,
    clientIp: d.client.ip,
    throughGateway,
  });
  if (!countryPermitted(access.gatewayCheck, d.client.country)) {
    throw new Problem("not-entitled", "Downloads of this video are not available in your country.");
  }
  // Fails closed: on Cloudflare's edge the address is always known, so this is a request from
  // somewhere the lock cannot be held.
  if (lockToIp && access.via.kind === "gateway" && access.via.network === null) {
    throw new Problem("not-entitled", "This download is locked to the requester's network, which could not be determined.");
  }
  return access;
}

export interface GrantRequest {
  video: string;
  type: DownloadType;
  /** The name the file should be saved under, or null for the UID. */
  name: string | null;
  access: Access;
  /** Unix seconds the grant must not outlive (a share link's expiry). */
  notAfter?: number;
  /** The share link it comes through (its public id): its object then admits each fetch of the grant's URL. */
  link?: string;
  /** Shorter than TOKEN_TTL_SECONDS: a share link's Stream URL, which nothing can count or revoke. */
  ttlSeconds?: number;
}

/** What minting needs: the keys, the settings, the request's clock and the gateway's own URL (a ticket's). */
export interface MintDeps {
  config: Config;
  signer: Signer;
  ticketKey: TicketKey;
  now: number;
  base: string;
}

/** The grant's lifetime: TOKEN_TTL_SECONDS, or less where the request asks (a share link's Stream URL). */
export const grantSeconds = (config: Config, g: GrantRequest): number => Math.min(g.ttlSeconds ?? config.tokenTtlSeconds, config.tokenTtlSeconds);
