// The public side of share links (docs/http-api.md): GET /s/:id shows the link and uses nothing;
// POST /s/:id checks it, waits for Stream, mints, takes one use atomically with the creator's
// quota and its audit row, then delivers.
import { Hono, type Context } from "hono";
import * as z from "../input/zod";
import { type AppContext, type AppEnv, chargedTo, type Deps, deps } from "../gateway/context";
import { readState, type DownloadState } from "../ensure/download-state";
import type { ShareLink } from "../share-links/store";
import type { Handout } from "../share-links/link-object";
import { downloadSize } from "../deliver/file-size";
import { videoBlocked } from "../entitle/entitle";
import { wantsHtml } from "../pages/html";
import { preparingResponse } from "./respond";
import { deadEndPage, landingPage, linkFacts, linkJson, linkPreparingPage, pageSettings, type LinkFacts } from "../pages/share-page";
import { mintDownloadToken } from "../mint/token";
import { formOrJsonBody, parseInput, readBody } from "../input/validate";
import { verifyPassword } from "../share-links/password";
import { clientNetwork } from "../http/networks";
import { expiredLink, linkProblem, linkRefusal, pausedLink, unknownLink, UnusableLink } from "../share-links/status";
import { linkEvent } from "../events/events";
import { announceSuspension } from "../events/suspension";
import { recordLinkGrant } from "../share-links/record";
import { ipLimit } from "./guards";
import { invalidRequest, Problem, retryLater } from "../problems";
import { ensureDownload } from "../ensure/ensure";
import { DELIVERY_MODES, deliveryOf, deliveryTo, type DeliveryMode } from "../deliver/modes";
import type { Minted } from "../deliver/mode";
import { grantAudit } from "../record/grant";
import { thumbnailUrl } from "../mint/urls";
import { documented, json, LINK_SECRET, PREPARING, problems, PUBLIC, queryParameters, DELIVERED, ref, schema, type Operation } from "./openapi";

const LinkDownloadBody = z.object({ password: z.optional(z.string().check(z.maxLength(256))) });
const LinkDownloadQuery = z.object({ mode: z.optional(z.enum(DELIVERY_MODES)) });

/**
 * A link delivered through the gateway answers every client with its /d/ URL. A link made with
 * Stream's URL sends a browser (the landing page's form) there; other clients get the bytes
 * through the gateway: `curl -X POST -L` would repeat its POST at Stream's delivery host, which
 * serves downloads to GET. Either way only if the deployment allows that mode.
 */
function linkMode(request: Request, link: ShareLink, asked: DeliveryMode | undefined, modes: ReadonlySet<string>): DeliveryMode {
  if (link.delivery === "gateway") {
    if (asked === "redirect") throw invalidRequest("mode", "This link is delivered through the gateway: mode=redirect is not offered");
    return "stream";
  }
  const mode = asked ?? (wantsHtml(request) || !modes.has("stream") ? "redirect" : "stream");
  if (!modes.has(mode)) throw invalidRequest("mode", `mode=${mode} is disabled on this gateway`);
  return mode;
}

/** How long Stream's URL of a link made for redirect delivery lasts: nothing counts its fetches, so briefly. */
const LINK_REDIRECT_TOKEN_SECONDS = 300;

/** The shortest grant worth handing out: a link with less left answers 410 link-expired. */
const MIN_GRANT_MS = 5000;

/** PASSWORD_ATTEMPTS_PER_MINUTE in wrangler.toml's LINK_PASSWORD_LIMITER. */
const PASSWORD_WINDOW_SECONDS = 60;

/**
 * How long this isolate answers a dead link from memory. Revoked and expired are for good; a
 * used-up link is remembered for MEMORY_CACHE_SECONDS, the bound on every other cached refusal.
 * A live link's settings never change, so a POST may take them from memory too: its use is
 * decided by the link's object, whatever this isolate remembers.
 */
const FOR_GOOD_MS = 600_000;
const linkKey = (secret: string) => `share-link:${secret}`;

/**
 * The link a URL's secret names, refused when it cannot be used; `usedUp` lets a used-up link
 * through, for the POST that may hand a network back the grant it already has.
 */
async function loadLink(d: Deps, secret: string, from: "memory" | "object", usedUp: "refused" | "allowed" = "refused"): Promise<ShareLink> {
  const allowed = (refusal: string | null) => refusal === null || (refusal === "link-exhausted" && usedUp === "allowed");
  const known = d.cache.get<ShareLink>(linkKey(secret), d.now);
  if (known !== undefined) {
    const refusal = linkRefusal(known, d.now);
    if (allowed(refusal) && from === "memory") return known;
    // A suspension is lifted by its owner: asked again.
    if (!allowed(refusal) && refusal !== "link-suspended") throw linkProblem(known, d.now);
  }
  const link = await d.links.bySecret(secret);
  if (!link) throw unknownLink();
  remember(d, secret, link);
  const problem = allowed(linkRefusal(link, d.now)) ? null : linkProblem(link, d.now);
  if (problem) throw problem;
  return link;
}

/**
 * A link's grant: the URL is in the body too, so a command-line client that does not follow
 * redirects sees where the file is, and where to resume it.
 */
function linkGrant(minted: Minted<DeliveryMode>): Response {
  const response = deliveryOf(minted.mode).respond(minted);
  return new Response(`${minted.url}\n`, { status: response.status, headers: { ...Object.fromEntries(response.headers), "content-type": "text/plain; charset=utf-8" } });
}

/** A grant handed back to the network that holds it, as it was handed out. */
const handBack = (handout: Handout): Response => linkGrant({ mode: handout.mode, url: handout.url, expiresAt: handout.grant.expiresAt, grant: handout.grant.id });

function remember(d: Deps, secret: string, link: ShareLink): void {
  const refusal = linkRefusal(link, d.now);
  const forGood = refusal === "link-revoked" || refusal === "link-expired";
  d.cache.set(linkKey(secret), link, forGood ? FOR_GOOD_MS : d.config.memoryCacheSeconds * 1000, d.now);
}

/**
 * A link made under a revocable right ("grant": a D1 grant, or an app's purchase) works only
 * while its creator still holds it, and the kill switch holds every link of the video. Both are
 * on hold, not revoked: the link works again when the right returns or the video is unblocked.
 * Only its creator or an admin revokes a link, and a revoked link never comes back.
 */
async function requireCreatorStillEntitled(d: Deps, c: AppContext, link: ShareLink): Promise<void> {
  const paused = (await videoBlocked(d, link.video))
    ? "video-unavailable"
    : link.fromGrant && !(await d.stillEntitled(link, c))
      ? "access-lost"
      : null;
  if (paused === null) return;
  // A link taken from this isolate's memory may have been revoked since (a block and a deleted grant revoke): that says more.
  const now = await d.links.bySecret(link.secret);
  throw (now && linkProblem(now, d.now)) ?? pausedLink(paused);
}

/** How long a poster fetch's view-only token lasts: it never leaves the gateway, so one minute. */
const POSTER_TOKEN_SECONDS = 60;

/** Twice the page's 320×180 poster box, for dense screens. */
const POSTER_SIZE = { width: 640, height: 360 };

/** Whether Stream has answered about the video at least once, with no refusal standing: it has a poster. */
const playable = (state: DownloadState | null): state is DownloadState =>
  state !== null && state.refusal === null && state.status !== "error" && state.checkedAt > 0;

/**
 * What a share page shows: the video's name and length as the download's state row knows them,
 * once the video is known to be playable its poster at the gateway's own /s/:id/poster.jpg (a
 * Stream token, even a view-only one, would let its holder play the whole video), and once the
 * file is ready its size. One D1 read; the first view after the file is ready also asks its size.
 */
async function pageFacts(d: Deps, link: ShareLink): Promise<LinkFacts> {
  return factsOf(d, link, await readState(d.db, link.video, link.type));
}

/** `pageFacts` from a state row already read. */
async function factsOf(d: Deps, link: ShareLink, state: DownloadState | null): Promise<LinkFacts> {
  const poster = playable(state) ? `${d.mount}/s/${encodeURIComponent(link.secret)}/poster.jpg` : null;
  const sizeBytes = state === null ? null : await downloadSize(d, state);
  return linkFacts(link, { name: state?.videoName ?? null, durationSeconds: state?.videoDuration ?? null, sizeBytes, posterUrl: poster }, d.mount);
}

/**
 * Every attempt counts, right or wrong, per (link, network): guessing from one network is slowed
 * (LINK_PASSWORD_LIMITER), and guessing spread over many meets the link's own ceiling, which a
 * network that has entered the right password never meets.
 */
async function checkPassword(d: Deps, link: ShareLink, password: string | undefined): Promise<void> {
  if (link.passwordHash === null) return;
  if (password === undefined || password === "") throw new Problem("not-entitled", "This link needs its password.");
  const network = (d.client.ip === null ? null : clientNetwork(d.client.ip)) ?? "unknown";
  const { success } = await d.limiters.password.limit({ key: `link:${link.id}:${network}` });
  if (!success) throw retryLater("rate-limited", "Too many password attempts for this link from your network.", PASSWORD_WINDOW_SECONDS);
  const guess = await d.links.guess(link, network, d.now);
  if (guess.kind === "wait") {
    throw retryLater("rate-limited", "Too many wrong passwords have been tried on this link. Try again later.", guess.retryAfterSeconds);
  }
  if (!(await verifyPassword(password, link.passwordHash))) throw new Problem("not-entitled", "Wrong password.");
  if (!guess.known) d.waitUntil(d.links.passwordRight(link.id, network, d.now));
}

const LANDING = (): Operation => ({
  summary: "Share-link landing page (HTML) or its facts (JSON); uses nothing",
  security: PUBLIC,
  parameters: [LINK_SECRET],
  responses: {
    200: { description: "The link", content: { "text/html": {}, ...json(ref("LinkFacts")) } },
    ...problems("not-found", "link-expired", "link-revoked", "link-exhausted", "link-suspended", "link-paused"),
  },
});

const POSTER = (): Operation => ({
  summary: "The shared video's poster (JPEG), fetched from Stream by the gateway; uses nothing",
  security: PUBLIC,
  parameters: [LINK_SECRET],
  responses: {
    200: { description: "The image", content: { "image/jpeg": {} } },
    ...problems("not-found", "link-expired", "link-revoked", "link-exhausted", "link-suspended", "link-paused", "rate-limited", "upstream-unavailable"),
  },
});

const REDEEM = (): Operation => ({
  summary: "Download through a share link (takes one use)",
  security: PUBLIC,
  parameters: [LINK_SECRET, ...queryParameters(LinkDownloadQuery)],
  requestBody: {
    required: false,
    content: { ...json(schema(LinkDownloadBody)), "application/x-www-form-urlencoded": { schema: schema(LinkDownloadBody) } },
  },
  responses: {
    202: PREPARING,
    ...DELIVERED,
    ...problems("invalid-request", "payload-too-large", "not-found", "not-entitled", "link-expired", "link-revoked", "link-exhausted", "link-suspended", "link-paused", "video-not-downloadable", "rate-limited", "quota-exceeded", "download-failed", "download-preparing", "upstream-unavailable", "misconfigured"),
  },
});

type LinkContext = Context<AppEnv, "/s/:id">;

/**
 * A person who opens a link that cannot be used gets a page that says why and what to do, in
 * their language; programs, and every other problem, get the gateway's problem+json as anywhere.
 */
function forPeople(handler: (c: LinkContext) => Promise<Response>): (c: LinkContext) => Promise<Response> {
  return async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      if (!(error instanceof UnusableLink) || !wantsHtml(c.req.raw)) throw error;
      const d = deps(c);
      return deadEndPage(error, pageSettings(d.config, c.req.raw, d.now));
    }
  };
}

export function shareRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  // Showing a link costs a D1 read and, for a link made under a revocable right, asking the app again.
  routes.get("/s/:id", documented(LANDING), ipLimit, forPeople(async (c) => {
    const d = deps(c);
    const link = await loadLink(d, c.req.param("id"), "object");
    await requireCreatorStillEntitled(d, c, link);
    const facts = await pageFacts(d, link);
    if (wantsHtml(c.req.raw)) return landingPage(facts, pageSettings(d.config, c.req.raw, d.now));
    return c.json(linkJson(facts, d.base), 200, { "cache-control": "no-store", "x-robots-tag": "noindex, nofollow" });
  }));

  // The poster, fetched from Stream by the gateway for a live link: the token stays here.
  routes.get("/s/:id/poster.jpg", documented(POSTER), ipLimit, async (c) => {
    const d = deps(c);
    const link = await loadLink(d, c.req.param("id"), "object");
    await requireCreatorStillEntitled(d, c, link);
    if (!playable(await readState(d.db, link.video, link.type))) throw new Problem("not-found", "This video has no poster yet.");
    const { token } = await mintDownloadToken(d.signer, { video: link.video, ttlSeconds: POSTER_TOKEN_SECONDS, view: true });
    const upstream = await fetch(thumbnailUrl(d.config, token, POSTER_SIZE), {
      signal: AbortSignal.timeout(d.config.stream.timeoutMs),
    }).catch(() => null);
    // An errored video's thumbnail answers 424 (docs/stream-behaviour.md §1), one Stream does not
    // have 404: there is no poster, and asking again will not make one, so no Retry-After; the
    // page's image stays empty.
    if (upstream?.status === 404 || upstream?.status === 424) {
      await upstream.body?.cancel();
      throw new Problem("not-found", "This video has no poster.");
    }
    const type = upstream?.headers.get("content-type") ?? "";
    if (upstream === null || !upstream.ok || !type.startsWith("image/")) {
      await upstream?.body?.cancel();
      throw retryLater("upstream-unavailable", "Stream did not send the poster.", 5);
    }
    return new Response(upstream.body, {
      headers: { "content-type": type, "cache-control": "private, max-age=300", "x-content-type-options": "nosniff", "x-robots-tag": "noindex, nofollow" },
    });
  });

  routes.post("/s/:id", documented(REDEEM), ipLimit, forPeople(async (c) => {
    const body = parseInput(LinkDownloadBody, formOrJsonBody(c.req.raw, await readBody(c.req.raw, 4096)), "body");
    const d = deps(c);
    const query = parseInput(LinkDownloadQuery, c.req.query(), "query");
    const secret = c.req.param("id");
    const link = await loadLink(d, secret, "memory", "allowed");
    const mode = linkMode(c.req.raw, link, query.mode, d.config.deliveryModes);
    await requireCreatorStillEntitled(d, c, link);
    try {
      await checkPassword(d, link, body.password);
    } catch (error) {
      // A person with the wrong password gets the page back, with the reason, not a dead end.
      if (!(error instanceof Problem) || !wantsHtml(c.req.raw)) throw error;
      return landingPage(await pageFacts(d, link), pageSettings(d.config, c.req.raw, d.now), { problem: error, typed: (body.password ?? "") !== "" });
    }

    // A used-up link still hands a network back the grant it holds, and costs nothing else.
    const held = linkRefusal(link, d.now) === "link-exhausted" ? await d.links.handedBack(link.id, d.client.network, d.now + MIN_GRANT_MS) : null;
    if (held !== null) {
      remember(d, secret, held.link);
      if (held.handout === null) throw linkProblem(held.link, d.now) ?? retryLater("upstream-unavailable", "This link is busy. Try again in a moment.", 1);
      return handBack(held.handout);
    }
    const ensured = await ensureDownload(chargedTo(d, null), link.video, link.type);
    if (ensured.kind !== "ready") {
      const retryAfter = ensured.kind === "preparing" ? ensured.retryAfter : 1;
      const percent = ensured.kind === "preparing" ? ensured.percent : 0;
      return wantsHtml(c.req.raw)
        ? linkPreparingPage(await factsOf(d, link, ensured.kind === "preparing" ? ensured.state : null), pageSettings(d.config, c.req.raw, d.now), { percent, retryAfter }, body.password ?? null)
        : preparingResponse(c.req.raw, percent, retryAfter);
    }
    const { access, delivery } = deliveryTo(d, mode, link);
    // A grant must outlive the request: a link in its last seconds is as good as expired.
    if (link.expiresAt - d.now < MIN_GRANT_MS) throw expiredLink(link);
    const notAfter = Math.floor(link.expiresAt / 1000);

    // Minted first (a minting fault costs no use), then the creator's quota and the use, which
    // the link's object takes with the grant and its audit event; only then does anything that
    // leads to the file leave the gateway.
    const ttlSeconds = link.delivery === "redirect" ? LINK_REDIRECT_TOKEN_SECONDS : undefined;
    const request = { video: link.video, type: link.type, name: ensured.videoName, access, notAfter, link: link.id, ttlSeconds };
    const minted = await delivery.mint(d, request);
    const event = grantAudit(d, request, minted.mode, { link: link.id });
    const redeemed = await recordLinkGrant(d, link, {
      now: d.now,
      network: d.client.network,
      country: d.client.country,
      grant: { id: minted.grant, expiresAt: minted.expiresAt },
      handout: { grant: { id: minted.grant, expiresAt: minted.expiresAt }, url: minted.url, mode: minted.mode },
      grantsUntil: d.now + MIN_GRANT_MS,
      event,
    });
    if (redeemed.kind === "unknown") throw unknownLink();
    remember(d, secret, redeemed.link);
    if (redeemed.kind === "refused") {
      if (redeemed.suspended) await announceSuspension(d, redeemed.link);
      throw linkProblem(redeemed.link, d.now) ?? retryLater("upstream-unavailable", "This link is busy. Try again in a moment.", 1);
    }
    // Every POST that hands out a new grant takes a use; one from a network whose grant still
    // lasts gets that grant back (a resume, a second click) and takes nothing.
    if (redeemed.kind === "resumed") return handBack(redeemed.handout);
    if (redeemed.link.uses === link.maxUses) {
      await d.events.notify(linkEvent("link.exhausted", link, d.now, { uses: redeemed.link.uses }));
    }
    return linkGrant(minted);
  }));
  return routes;
}
