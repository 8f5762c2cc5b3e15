import { coarseNetwork } from "./networks";

/** Who is asking, as Cloudflare's edge reports it. */
export interface ClientInfo {
  ip: string | null;
  /** The IP's IPv4 /24 or IPv6 /48 (what audit rows keep, and share links' leak checks count). */
  network: string | null;
  /** ISO code, or null when unknown (Cloudflare's XX and T1 for Tor count as unknown). */
  country: string | null;
}

export function clientInfo(request: Request): ClientInfo {
  const cf = (request as { cf?: { country?: unknown } }).cf;
  // request.cf is authoritative; the header is what Cloudflare also sets, read where there is no
  // cf (the test pool). Under `wrangler dev`, cf is Miniflare's placeholder (country "US"), which
  // wins over a header given by hand: countries cannot be simulated there.
  const raw = typeof cf?.country === "string" ? cf.country : request.headers.get("cf-ipcountry");
  const country = raw && /^[A-Z]{2}$/.test(raw) && raw !== "XX" && raw !== "T1" ? raw : null;
  const ip = request.headers.get("cf-connecting-ip");
  return { ip, network: ip === null ? null : coarseNetwork(ip), country };
}
