// Stream mode (and every IP-locked grant): a 303 to the gateway's own /d/<ticket>, which streams
// the file through the Worker for the grant's lifetime (routes/tickets.ts): Stream sees only the
// Worker, the gateway sees every fetch, and the filename is the gateway's own header. Browsers,
// curl and wget follow the 303 with a GET and resume there.
import { grantSeconds } from "../mint/grant";
import { issueTicket } from "../mint/ticket";
import { grantExpiry } from "../mint/token";
import { Problem, retryLater } from "../problems";
import { savedName } from "./filename";
import { sendOn, type Delivery } from "./mode";

export const stream: Delivery<"stream"> = {
  throughGateway: true,
  documented: {
    status: 303,
    description: "Stream mode: the grant is recorded and the file is at the Location, the gateway's own /d/<ticket> URL, for the grant's lifetime (resume there with Range)",
  },
  async mint(d, g) {
    const now = Math.floor(d.now / 1000);
    const grant = crypto.randomUUID();
    const expiresAt = grantExpiry(now, grantSeconds(d.config, g), g.notAfter);
    const ticket = await issueTicket(d.ticketKey, {
      id: grant,
      link: g.link ?? null,
      issuedAt: now,
      video: g.video,
      type: g.type,
      expiresAt,
      network: g.access.via.kind === "gateway" ? g.access.via.network : null,
      countries: g.access.gatewayCheck,
      name: savedName(g.name),
    });
    return { mode: "stream", url: `${d.base}/d/${ticket}`, expiresAt, grant };
  },
  ...sendOn(303),
};

/** What clients are told to wait after Stream's delivery host failed them. */
const OUTAGE_RETRY_SECONDS = 5;

// Only what describes the bytes travels back; Stream's cookies or caching headers do not.
const PASSED_BACK = ["content-type", "content-length", "content-range", "accept-ranges", "etag", "last-modified"];

/**
 * Fetches the file from Stream and streams the body through without buffering. Only Range and
 * If-Range are forwarded: never the user's cookies or Authorization. A HEAD asks Stream for the
 * headers only, so it never pulls (or is billed for) the body.
 */
export async function streamThrough(
  request: Request,
  url: string,
  contentDisposition: string,
  timeoutMs: number,
): Promise<Response> {
  const forwarded = new Headers();
  for (const name of ["range", "if-range"]) {
    const value = request.headers.get(name);
    if (value !== null) forwarded.set(name, value);
  }
  let upstream: Response;
  try {
    const method = request.method === "HEAD" ? "HEAD" : "GET";
    upstream = await fetch(url, { method, headers: forwarded, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw retryLater("upstream-unavailable", "Stream's delivery host did not answer.", OUTAGE_RETRY_SECONDS);
  }
  if (upstream.status !== 200 && upstream.status !== 206 && upstream.status !== 416) {
    await upstream.body?.cancel();
    if (upstream.status >= 500 || upstream.status === 429) {
      throw retryLater("upstream-unavailable", `Stream's delivery host answered ${upstream.status}.`, OUTAGE_RETRY_SECONDS);
    }
    throw new Problem("download-failed", `Stream refused the download (${upstream.status}).`);
  }
  const out = new Headers();
  for (const name of PASSED_BACK) {
    const value = upstream.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set("content-disposition", contentDisposition);
  out.set("cache-control", "no-store");
  out.set("referrer-policy", "no-referrer");
  out.set("x-content-type-options", "nosniff");
  return new Response(upstream.body, { status: upstream.status, headers: out });
}
