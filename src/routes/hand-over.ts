// Steps 4 and 5, shared by signed-in downloads and share links: decide the access rules, mint
// what the grant hands over (a Stream token, or in stream mode the gateway's own ticket), and
// deliver it. Every request that reaches `mintGrant` is a grant, whatever its Range header:
// resuming happens at the URL a grant ends at (Stream's tokenized URL, or /d/<ticket>), never
// by a Range on a granting request.
import type { Deps } from "../context";
import type { DeliveryMode } from "../config";
import { Problem } from "../problems";
import { countryPermitted, decideAccess, type AccessRule } from "../stream/access-rules";
import type { DownloadType } from "../stream/client";
import { deliveryUrl, redirectTo } from "../stream/delivery";
import { savedName, streamFilenameParam } from "../stream/filename";
import { issueTicket } from "../stream/ticket";
import { grantExpiry, mintDownloadToken } from "../stream/token";

export interface Access {
  rules: AccessRule[];
  /** Stream mode: the network the ticket is bound to (an IP lock), or null. */
  network: string | null;
}

/** The §4 decision for this client; refuses here what the gateway must enforce itself. */
export function accessFor(
  d: Deps,
  mode: DeliveryMode,
  link: { countries: string[] | null; lockToIp: boolean } | null = null,
): Access {
  const access = decideAccess({
    allowedCountries: d.config.allowedCountries,
    blockedCountries: d.config.blockedCountries,
    linkCountries: link?.countries ? new Set(link.countries) : null,
    lockToIp: d.config.lockToClientIp || (link?.lockToIp ?? false),
    clientIp: d.client.ip,
    mode,
  });
  if (!countryPermitted(access.gatewayCheck, d.client.country)) {
    throw new Problem("not-entitled", "Downloads of this video are not available in your country.");
  }
  return { rules: access.rules, network: access.network };
}

export interface GrantRequest {
  video: string;
  type: DownloadType;
  mode: DeliveryMode | "url";
  /** The name the file should be saved under, or null for the UID. */
  name: string | null;
  access: Access;
  /** Unix seconds the grant must not outlive (a share link's expiry). */
  notAfter?: number;
}

export interface Minted {
  mode: DeliveryMode | "url";
  /** Where the grant ends: Stream's tokenized URL, or the gateway's /d/<ticket>. */
  url: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** Step 4: what the grant hands over. Minted before the grant is recorded, so that a minting fault costs no use. */
export async function mintGrant(d: Deps, request: Request, g: GrantRequest): Promise<Minted> {
  const now = Math.floor(d.now / 1000);
  if (g.mode === "stream") {
    const expiresAt = grantExpiry(now, d.config.tokenTtlSeconds, g.notAfter);
    const ticket = await issueTicket(d.config.stream, {
      video: g.video,
      type: g.type,
      expiresAt,
      network: g.access.network,
      name: savedName(g.name),
    });
    return { mode: g.mode, url: new URL(`/d/${ticket}`, request.url).href, expiresAt };
  }
  const { token, expiresAt } = await mintDownloadToken(d.config.stream, {
    video: g.video,
    ttlSeconds: d.config.tokenTtlSeconds,
    notAfter: g.notAfter,
    accessRules: g.access.rules,
    now,
  });
  return { mode: g.mode, url: deliveryUrl(d.config, token, g.type, streamFilenameParam(g.name, g.video)), expiresAt };
}

const GRANT_HEADERS = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

/**
 * Step 5: a 302 to Stream, or in stream mode a 303 to the ticket (browsers, curl and wget follow
 * it with a GET and resume there); "url" answers JSON for a button that fetches first.
 */
export function deliver(minted: Minted): Response {
  switch (minted.mode) {
    case "redirect":
      return redirectTo(minted.url);
    case "stream":
      return new Response(null, { status: 303, headers: { location: minted.url, ...GRANT_HEADERS } });
    case "url":
      return Response.json({ url: minted.url, expiresAt: new Date(minted.expiresAt * 1000).toISOString() }, { headers: GRANT_HEADERS });
  }
}

/**
 * HEAD on a granting route: the status and headers a GET would get, without a Location (a URL
 * there would be a grant), having taken, recorded and created nothing.
 */
export function deliverHead(mode: DeliveryMode): Response {
  return new Response(null, { status: mode === "stream" ? 303 : 302, headers: GRANT_HEADERS });
}
