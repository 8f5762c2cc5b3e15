// Steps 4 and 5, shared by signed-in downloads and share links: decide the access rules, mint
// what the grant hands over (a Stream token, or in stream mode the gateway's own ticket), and
// deliver it. Every request that reaches `mintGrant` is a grant, whatever its Range header:
// resuming happens at the URL a grant ends at (Stream's tokenized URL, or /d/<ticket>), never
// by a Range on a granting request.
import type { Deps } from "../gateway/context";
import type { DeliveryMode } from "../config/config";
import { Problem } from "../problems";
import { countryPermitted, decideAccess, type AccessDecision } from "../mint/access-rules";
import type { DownloadType } from "../config/config";
import { deliveryUrl, redirectTo } from "./delivery";
import { savedName, streamFilenameParam } from "./filename";
import { issueTicket } from "../mint/ticket";
import { grantExpiry, mintDownloadToken } from "../mint/token";
import type { AuditEvent } from "../record/audit";

export type Access = Pick<AccessDecision, "rules" | "via" | "gatewayCheck">;

/** The access decision for this client (docs/design.md › Access rules); refuses here what the gateway must enforce itself. */
export function accessFor(
  d: Deps,
  mode: DeliveryMode,
  link: { countries: string[] | null; lockToIp: boolean } | null = null,
): Access {
  const lockToIp = d.config.lockToClientIp || (link?.lockToIp ?? false);
  const access = decideAccess({
    allowedCountries: d.config.allowedCountries,
    blockedCountries: d.config.blockedCountries,
    linkCountries: link?.countries ? new Set(link.countries) : null,
    lockToIp,
    clientIp: d.client.ip,
    mode,
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
  mode: DeliveryMode | "url";
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

export interface Minted {
  /** "url" answers JSON; "redirect" a 302 to Stream; "ticket" a 303 to the gateway's own URL. */
  answer: "url" | "redirect" | "ticket";
  /** Where the grant ends: Stream's tokenized URL, or the gateway's /d/<ticket>. */
  url: string;
  /** Unix seconds. */
  expiresAt: number;
  /** Names the grant (the ticket's id). */
  grant: string;
}

/** Step 4: what the grant hands over. Minted before the grant is recorded, so that a minting fault costs no use. */
export async function mintGrant(d: Deps, g: GrantRequest): Promise<Minted> {
  const now = Math.floor(d.now / 1000);
  const via = g.access.via;
  const grant = crypto.randomUUID();
  const ttlSeconds = Math.min(g.ttlSeconds ?? d.config.tokenTtlSeconds, d.config.tokenTtlSeconds);
  if (via.kind === "gateway") {
    const expiresAt = grantExpiry(now, ttlSeconds, g.notAfter);
    const ticket = await issueTicket(d.ticketKey, {
      id: grant,
      link: g.link ?? null,
      issuedAt: now,
      video: g.video,
      type: g.type,
      expiresAt,
      network: via.network,
      countries: g.access.gatewayCheck,
      name: savedName(g.name),
    });
    return { answer: g.mode === "url" ? "url" : "ticket", url: `${d.base}/d/${ticket}`, expiresAt, grant };
  }
  const { token, expiresAt } = await mintDownloadToken(d.signer, {
    video: g.video,
    ttlSeconds,
    notAfter: g.notAfter,
    accessRules: g.access.rules,
    now,
  });
  const url = deliveryUrl(d.config, token, g.type, streamFilenameParam(g.name, g.video));
  return { answer: g.mode === "url" ? "url" : "redirect", url, expiresAt, grant };
}

/**
 * The audit event of a grant about to be recorded: by a signed-in user or through a share link,
 * in the mode the client is handed (an IP-locked grant asked for as a redirect is served through
 * the gateway), from the requester's country and coarse network.
 */
export function grantAudit(d: Deps, g: GrantRequest, minted: Minted, by: { user: string }): AuditEvent & { user: string };
export function grantAudit(d: Deps, g: GrantRequest, minted: Minted, by: { link: string }): AuditEvent & { link: string };
export function grantAudit(d: Deps, g: GrantRequest, minted: Minted, by: { user: string } | { link: string }): AuditEvent {
  return {
    id: crypto.randomUUID(),
    at: d.now,
    user: "user" in by ? by.user : null,
    link: "link" in by ? by.link : null,
    video: g.video,
    type: g.type,
    mode: minted.answer === "ticket" ? "stream" : g.mode,
    country: d.client.country,
    network: d.client.network,
    outcome: "granted",
  };
}

const GRANT_HEADERS = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

/**
 * Step 5: a 302 to Stream, or (stream mode, IP-locked grants) a 303 to the ticket (browsers, curl
 * and wget follow it with a GET and resume there); "url" answers JSON for a button that fetches first.
 */
export function deliver(minted: Minted): Response {
  switch (minted.answer) {
    case "redirect":
      return redirectTo(minted.url);
    case "ticket":
      return new Response(null, { status: 303, headers: { location: minted.url, ...GRANT_HEADERS } });
    case "url":
      return Response.json({ url: minted.url, expiresAt: new Date(minted.expiresAt * 1000).toISOString() }, { headers: GRANT_HEADERS });
  }
}

/**
 * HEAD on a granting route: the status and headers a GET would get, without a Location (a URL
 * there would be a grant), having taken, recorded and created nothing.
 */
export function deliverHead(access: Access): Response {
  return new Response(null, { status: access.via.kind === "gateway" ? 303 : 302, headers: GRANT_HEADERS });
}
