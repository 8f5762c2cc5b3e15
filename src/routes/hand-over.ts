// Steps 4 and 5, shared by signed-in downloads and share links: decide the access rules, mint
// the Stream token, and deliver by redirect or stream-through.
import type { Deps } from "../context";
import type { DeliveryMode } from "../config";
import { Problem } from "../problems";
import { countryPermitted, decideAccess, type AccessRule } from "../stream/access-rules";
import type { DownloadType } from "../stream/client";
import { DOWNLOAD_FILES, deliveryUrl, redirectTo, streamThrough } from "../stream/delivery";
import { contentDisposition, streamFilenameParam } from "../stream/filename";
import { mintDownloadToken } from "../stream/token";

/** The §4 decision for this client; refuses here what the gateway must enforce itself. */
export function accessRulesFor(
  d: Deps,
  mode: DeliveryMode,
  link: { countries: string[] | null; lockToIp: boolean } | null = null,
): AccessRule[] {
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
  return access.rules;
}

export interface HandOver {
  video: string;
  type: DownloadType;
  mode: DeliveryMode | "url";
  /** The name the file should be saved under, or null for the UID. */
  name: string | null;
  rules: AccessRule[];
  /** Unix seconds the token must not outlive (a share link's expiry). */
  notAfter?: number;
}

export async function handOver(d: Deps, request: Request, h: HandOver): Promise<{ response: Response; url: string; expiresAt: number }> {
  const { token, expiresAt } = await mintDownloadToken(d.config.stream, {
    video: h.video,
    ttlSeconds: d.config.tokenTtlSeconds,
    notAfter: h.notAfter,
    accessRules: h.rules,
    now: Math.floor(d.now / 1000),
  });
  if (h.mode === "stream") {
    const url = deliveryUrl(d.config, token, h.type);
    const disposition = contentDisposition(h.name, h.video, DOWNLOAD_FILES[h.type].extension);
    return { response: await streamThrough(request, url, disposition, d.config.stream.timeoutMs), url, expiresAt };
  }
  const url = deliveryUrl(d.config, token, h.type, streamFilenameParam(h.name, h.video));
  return { response: redirectTo(url), url, expiresAt };
}

/** A resumed download (a Range past the start) is the same download: no second use, quota or audit row. */
export function startsDownload(request: Request): boolean {
  const range = request.headers.get("range");
  return range === null || /^bytes=0-\s*$/.test(range.trim());
}
