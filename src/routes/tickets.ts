// The URL a stream-mode or IP-locked grant ends at (docs/design.md › One download, one grant): GET and HEAD
// /d/<ticket> serve the file with Range and If-Range for the grant's lifetime, taking no use,
// quota or audit row: the grant that issued the ticket took them. Browsers resume a download by
// asking the final URL again with a Range, and so do `curl -C -` and `wget -c` here. POST is
// served like GET for `curl -X POST -L`, which repeats its POST after the share link's 303.
import { Hono, type Context } from "hono";
import { documented, pathParameter, problems, PUBLIC, type Operation } from "./openapi";
import { type AppEnv, type Deps, deps } from "../gateway/context";
import type { Opened } from "../share-links/link-object";
import { refusalProblem as linkProblemOf } from "../share-links/status";
import { announceSuspension } from "../events/suspension";
import { sameRequester } from "../mint/ticket-pins";
import { videoBlocked } from "../entitle/entitle";
import { ipLimit } from "./guards";
import { Problem, retryLater } from "../problems";
import { countryPermitted } from "../mint/access-rules";
import { streamThrough } from "../deliver/stream";
import { DOWNLOAD_FILES, deliveryUrl } from "../mint/urls";
import { contentDisposition } from "../deliver/filename";
import { metered } from "../deliver/metered";
import { readTicket, type Ticket } from "../mint/ticket";
import { mintDownloadToken } from "../mint/token";

const TICKET_PARAMETER = pathParameter("ticket", "The grant ticket a 303 named", "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$");
const FILE = {
  description: "The file, streamed through the gateway (`Content-Disposition: attachment`)",
  content: { "video/mp4": {}, "audio/mp4": {} },
};

const FETCH = (): Operation => ({
  summary: "The file of a stream-mode grant, resumable with Range and If-Range for the grant's lifetime (takes no use)",
  security: PUBLIC,
  parameters: [TICKET_PARAMETER],
  responses: {
    200: FILE,
    206: { description: "A range of the file" },
    416: { description: "Range not satisfiable" },
    ...problems("not-found", "not-entitled", "rate-limited", "download-failed", "upstream-unavailable", "misconfigured"),
  },
});

const FETCH_AFTER_POST = (): Operation => ({
  summary: "As GET (for clients that repeat a POST after the 303)",
  security: PUBLIC,
  parameters: [TICKET_PARAMETER],
  responses: { 200: FILE, 206: { description: "A range of the file" }, ...problems("not-found", "not-entitled", "rate-limited", "download-failed", "upstream-unavailable") },
});

const serveTicket = async (c: Context<AppEnv, "/d/:ticket">) => {
  const d = deps(c);
  const ticket = await readTicket(d.ticketKey, c.req.param("ticket"), d.now);
  if (!ticket) throw new Problem("not-found", "This download URL is unknown or has expired; start the download again.");
  // Countries and the kill switch first: a refused request must not take the lock's second slot.
  if (!countryPermitted(ticket.countries, d.client.country)) {
    throw new Problem("not-entitled", "Downloads of this video are not available in your country.");
  }
  if (await videoBlocked(d, ticket.video)) throw new Problem("not-entitled", "You are not entitled to download this video.");
  if (ticket.network !== null && !(await sameRequester(d.db, { ...ticket, network: ticket.network }, d.client.ip, d.now))) {
    throw new Problem("not-entitled", "This download is locked to the network it was started from.");
  }

  const linked = ticket.link === null ? null : { ...ticket, link: ticket.link };
  // Asked before Stream is: a fetch the link's object refuses costs Stream nothing.
  if (linked !== null) await admit(d, linked, null);
  const now = Math.floor(d.now / 1000);
  const { token } = await mintDownloadToken(d.signer, { video: ticket.video, ttlSeconds: ticket.expiresAt - now, now });
  const disposition = contentDisposition(ticket.name, ticket.video, DOWNLOAD_FILES[ticket.type].extension);
  const response = await streamThrough(c.req.raw, deliveryUrl(d.config, token, ticket.type), disposition, d.config.stream.timeoutMs);
  return linked === null ? response : admittedByLink(d, linked, response);
};

/**
 * A running response asks its link's object again after each this many bytes: a revocation or
 * a suspension stops it there. A client resumes what it got with a Range, which asks again.
 */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;

/** What the file's length is, from a 200's Content-Length or a 206's Content-Range. */
function lengths(response: Response): { bytes: number | null; size: number | null } {
  const length = response.headers.get("content-length");
  const bytes = length !== null && /^\d{1,15}$/.test(length) ? Number(length) : null;
  if (response.status === 416 || response.body === null) return { bytes: 0, size: null };
  if (response.status === 200) return { bytes, size: bytes };
  const total = /\/(\d{1,15})$/.exec(response.headers.get("content-range") ?? "")?.[1];
  return { bytes, size: total === undefined ? null : Number(total) };
}

type LinkTicket = Ticket & { link: string };

/**
 * Asks the link's object whether this fetch may go on (`length` null: before Stream is asked) or
 * reserves its length from the grant's budget; a refusal is thrown, a suspension announced.
 */
async function admit(d: Deps, ticket: LinkTicket, length: { bytes: number | null; sizeBytes: number | null } | null): Promise<number> {
  const opened = await d.links.open(ticket.link, {
    grant: { id: ticket.id, expiresAt: ticket.expiresAt },
    now: d.now,
    network: d.client.network,
    country: d.client.country,
    length,
  });
  if (opened.kind === "open") return opened.reserved;
  if (opened.suspended !== undefined) await announceSuspension(d, opened.suspended);
  throw grantRefusal(opened.why);
}

/**
 * A share-link grant's fetch, once Stream's headers tell its length: admitted by the link's
 * object (live link, the grant's network or its one switch, its byte budget), then counted as it
 * streams, with a checkpoint every CHECKPOINT_BYTES and the unsent rest given back at its end.
 */
async function admittedByLink(d: Deps, ticket: LinkTicket, response: Response): Promise<Response> {
  const { bytes, size } = lengths(response);
  let reserved: number;
  try {
    reserved = await admit(d, ticket, { bytes, sizeBytes: size });
  } catch (error) {
    await response.body?.cancel();
    throw error;
  }
  // A HEAD, or a 416's few bytes of explanation: nothing of the file to count.
  if (response.body === null || reserved === 0) return response;
  const grant = { id: ticket.id, expiresAt: ticket.expiresAt };
  const body = metered(response.body, reserved, {
    stillLive: () => d.links.stillLive(ticket.link),
    close: (unsent) => d.waitUntil(d.links.close(ticket.link, grant, unsent)),
  }, CHECKPOINT_BYTES);
  return new Response(body, { status: response.status, headers: response.headers });
}

function grantRefusal(why: Exclude<Opened, { kind: "open" }>["why"]): Problem {
  switch (why) {
    case "grant-unknown":
      return new Problem("not-found", "This download URL is unknown or has expired; start the download again.");
    case "other-network":
      return new Problem("not-entitled", "This download URL belongs to the network it was started from.");
    case "budget-spent":
      return new Problem("grant-spent", "This download URL has delivered the file as many times as it may; start again from the link.");
    case "length-unknown":
      return retryLater("upstream-unavailable", "Stream did not say how long the file is. Try again in a moment.", 5);
    default:
      return linkProblemOf(why);
  }
}

export function ticketRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  // Hono answers HEAD with the GET handler.
  // Stream bills each fetch through here for the part of the file it delivers, a whole download
  // for a full GET (docs/stream-behaviour.md §1): the per-IP limit bounds a loop.
  routes.get("/d/:ticket", documented(FETCH), ipLimit, serveTicket);
  routes.post("/d/:ticket", documented(FETCH_AFTER_POST), ipLimit, serveTicket);
  return routes;
}
