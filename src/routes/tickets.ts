// The URL a stream-mode grant ends at (SPEC §1.5 as replaced by the controls issue): GET and HEAD
// /d/<ticket> serve the file with Range and If-Range for the grant's lifetime, taking no use,
// quota or audit row: the grant that issued the ticket took them. Browsers resume a download by
// asking the final URL again with a Range, and so do `curl -C -` and `wget -c` here. POST is
// served like GET for `curl -X POST -L`, which repeats its POST after the share link's 303.
import { Hono } from "hono";
import { type AppEnv, deps } from "../context";
import { videoBlocked } from "../entitlement/entitle";
import { enforceRateLimits } from "../limits";
import { Problem } from "../problems";
import { clientNetwork } from "../stream/access-rules";
import { DOWNLOAD_FILES, deliveryUrl, streamThrough } from "../stream/delivery";
import { contentDisposition } from "../stream/filename";
import { readTicket } from "../stream/ticket";
import { mintDownloadToken } from "../stream/token";

export const ticketRoutes = new Hono<AppEnv>();

ticketRoutes.on(["GET", "POST"], "/d/:ticket", async (c) => {
  const d = deps(c);
  // Each fetch through here is billed by Stream as a whole download: the per-IP limit bounds a loop.
  await enforceRateLimits(c.env, { ip: d.client.ip });
  const ticket = await readTicket(d.config.stream, c.req.param("ticket"), d.now);
  if (!ticket) throw new Problem("not-found", "This download URL is unknown or has expired; start the download again.");
  // The same network, as the grant's ticket was bound to it: another client cannot use it.
  if (ticket.network !== null && (d.client.ip === null || clientNetwork(d.client.ip) !== ticket.network)) {
    throw new Problem("not-entitled", "This download is locked to the network it was started from.");
  }
  if (await videoBlocked(d, ticket.video)) throw new Problem("not-entitled", "You are not entitled to download this video.");

  const now = Math.floor(d.now / 1000);
  const { token } = await mintDownloadToken(d.config.stream, { video: ticket.video, ttlSeconds: ticket.expiresAt - now, now });
  const disposition = contentDisposition(ticket.name, ticket.video, DOWNLOAD_FILES[ticket.type].extension);
  return streamThrough(c.req.raw, deliveryUrl(d.config, token, ticket.type), disposition, d.config.stream.timeoutMs);
});
