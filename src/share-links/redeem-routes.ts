// The public side of share links (docs/http-api.md): GET /s/:id shows the link and uses nothing;
// POST /s/:id checks it, waits for Stream, mints, takes one use atomically with the creator's
// quota and its audit row, then delivers.
import { Hono } from "hono";
import * as z from "../http/zod";
import { DELIVERY_MODES, type DeliveryMode } from "../config";
import { type AppContext, type AppEnv, type Deps, deps } from "../context";
import { readState, type DownloadState } from "../ensure/download-state";
import { findLink, type ShareLink } from "./store";
import { downloadSize } from "./file-size";
import { videoBlocked } from "../entitle/entitle";
import { wantsHtml } from "../http/html";
import { preparingResponse } from "../http/respond";
import { landingPage, linkFacts, linkJson, linkPreparingPage, type LinkFacts } from "./pages";
import { mintDownloadToken } from "../mint/token";
import { formOrJsonBody, parseInput, readBody } from "../http/validate";
import { verifyPassword } from "./password";
import { linkProblem, unknownLink } from "./status";
import { recordLinkGrant } from "../record/grant";
import { linkEvent } from "../events/events";
import { enforceRateLimits } from "../limits/rate-limits";
import { Problem, retryLater } from "../problems";
import { ensureDownload } from "../ensure/ensure";
import { accessFor, deliver, grantAudit, mintGrant } from "../deliver/hand-over";
import { thumbnailUrl } from "../deliver/delivery";
import { documented, json, LINK_ID, PREPARING, problems, PUBLIC, queryParameters, REDIRECT, ref, schema, TICKET, type Operation } from "../http/openapi";

const LinkDownloadBody = z.object({ password: z.optional(z.string().check(z.maxLength(256))) });
const LinkDownloadQuery = z.object({ mode: z.optional(z.enum(DELIVERY_MODES)) });

/**
 * A browser (the landing page's form) is redirected to Stream. Other clients get the bytes
 * through the gateway: `curl -X POST -L` would repeat its POST at Stream's delivery host, which
 * serves downloads to GET. Either way only if the deployment allows that mode.
 */
function linkMode(request: Request, asked: DeliveryMode | undefined, modes: ReadonlySet<DeliveryMode>): DeliveryMode {
  const mode = asked ?? (wantsHtml(request) || !modes.has("stream") ? "redirect" : "stream");
  if (!modes.has(mode)) throw new Problem("invalid-request", `mode=${mode} is disabled on this gateway`, { extensions: { field: "mode" } });
  return mode;
}

/** The shortest grant worth handing out: a link with less left answers 410 link-expired. */
const MIN_GRANT_MS = 5000;

/** PASSWORD_ATTEMPTS_PER_MINUTE in wrangler.toml's LINK_PASSWORD_LIMITER. */
const PASSWORD_WINDOW_SECONDS = 60;

/**
 * How long this isolate answers a dead link from memory. Revoked and expired are for good; a
 * used-up link could come back only by a use given back (a grant that could not be recorded), so
 * it is remembered for MEMORY_CACHE_SECONDS, the bound on every other cached refusal.
 */
const FOR_GOOD_MS = 600_000;
const deadLinkKey = (id: string) => `dead-link:${id}`;

async function loadLink(d: Deps, id: string): Promise<ShareLink> {
  // A used-up link posted to a large audience is asked for again and again: answered from memory.
  const dead = d.cache.get<ShareLink>(deadLinkKey(id), d.now);
  if (dead !== undefined) throw linkProblem(dead, d.now) ?? unknownLink();
  // Looked up whatever its shape, so a malformed id costs what an unknown one does.
  const link = await findLink(d.db, id);
  if (!link) throw unknownLink();
  const problem = linkProblem(link, d.now);
  if (problem) {
    const forGood = problem.type === "link-revoked" || problem.type === "link-expired";
    if (forGood || problem.type === "link-exhausted") {
      d.cache.set(deadLinkKey(id), link, forGood ? FOR_GOOD_MS : d.config.memoryCacheSeconds * 1000, d.now);
    }
    throw problem;
  }
  return link;
}

/**
 * A link made under a revocable right ("grant": a D1 grant, or an app's purchase) works only
 * while its creator still holds it, and the kill switch holds every link of the video. Both are
 * on hold, not revoked: the link works again when the right returns or the video is unblocked.
 * Only its creator or an admin revokes a link, and a revoked link never comes back.
 */
async function requireCreatorStillEntitled(d: Deps, c: AppContext, link: ShareLink): Promise<void> {
  if (await videoBlocked(d, link.video)) {
    throw new Problem("link-paused", "The video of this link is not available at the moment. The link works again if it becomes available.");
  }
  if (link.fromGrant && !(await d.stillEntitled(link, c))) {
    throw new Problem("link-paused", "The person who shared this link no longer has access to this video. The link works again if their access returns.");
  }
}

/** How long a poster fetch's view-only token lasts: it never leaves the gateway, so one minute. */
const POSTER_TOKEN_SECONDS = 60;

/** Twice the page's 180 px poster, for dense screens. */
const POSTER_HEIGHT = 360;

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
  const poster = playable(state) ? `${d.mount}/s/${encodeURIComponent(link.id)}/poster.jpg` : null;
  const sizeBytes = state === null ? null : await downloadSize(d, state);
  return linkFacts(link, { name: state?.videoName ?? null, durationSeconds: state?.videoDuration ?? null, sizeBytes, posterUrl: poster }, d.mount);
}

async function checkPassword(d: Deps, link: ShareLink, password: string | undefined): Promise<void> {
  if (link.passwordHash === null) return;
  if (password === undefined || password === "") throw new Problem("not-entitled", "This link needs its password.");
  // Every attempt counts, right or wrong: guessing is slowed per link whoever guesses.
  const { success } = await d.limiters.password.limit({ key: `link:${link.id}` });
  if (!success) throw retryLater("rate-limited", "Too many password attempts for this link.", PASSWORD_WINDOW_SECONDS);
  if (!(await verifyPassword(password, link.passwordHash))) throw new Problem("not-entitled", "Wrong password.");
}

const LANDING = (): Operation => ({
  summary: "Share-link landing page (HTML) or its facts (JSON); uses nothing",
  security: PUBLIC,
  parameters: [LINK_ID],
  responses: {
    200: { description: "The link", content: { "text/html": {}, ...json(ref("LinkFacts")) } },
    ...problems("not-found", "link-expired", "link-revoked", "link-exhausted", "link-suspended", "link-paused"),
  },
});

const POSTER = (): Operation => ({
  summary: "The shared video's poster (JPEG), fetched from Stream by the gateway; uses nothing",
  security: PUBLIC,
  parameters: [LINK_ID],
  responses: {
    200: { description: "The image", content: { "image/jpeg": {} } },
    ...problems("not-found", "link-expired", "link-revoked", "link-exhausted", "link-suspended", "link-paused", "rate-limited", "upstream-unavailable"),
  },
});

const REDEEM = (): Operation => ({
  summary: "Download through a share link (takes one use)",
  security: PUBLIC,
  parameters: [LINK_ID, ...queryParameters(LinkDownloadQuery)],
  requestBody: {
    required: false,
    content: { ...json(schema(LinkDownloadBody)), "application/x-www-form-urlencoded": { schema: schema(LinkDownloadBody) } },
  },
  responses: {
    202: PREPARING,
    302: REDIRECT,
    303: TICKET,
    ...problems("invalid-request", "payload-too-large", "not-found", "not-entitled", "link-expired", "link-revoked", "link-exhausted", "link-suspended", "link-paused", "video-not-downloadable", "rate-limited", "quota-exceeded", "download-failed", "upstream-unavailable", "misconfigured"),
  },
});

export function shareRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/s/:id", documented(LANDING), async (c) => {
    const d = deps(c);
    // Showing a link costs a D1 read and, for a link made under a revocable right, asking the app again.
    await enforceRateLimits(d.limiters, { ip: d.client.ip });
    const link = await loadLink(d, c.req.param("id"));
    await requireCreatorStillEntitled(d, c, link);
    const facts = await pageFacts(d, link);
    if (wantsHtml(c.req.raw)) return landingPage(facts, d.config.stream.deliveryBase, d.config.brand, d.now);
    return c.json(linkJson(facts, d.base), 200, { "cache-control": "no-store", "x-robots-tag": "noindex, nofollow" });
  });

  // The poster, fetched from Stream by the gateway for a live link: the token stays here.
  routes.get("/s/:id/poster.jpg", documented(POSTER), async (c) => {
    const d = deps(c);
    await enforceRateLimits(d.limiters, { ip: d.client.ip });
    const link = await loadLink(d, c.req.param("id"));
    await requireCreatorStillEntitled(d, c, link);
    if (!playable(await readState(d.db, link.video, link.type))) throw new Problem("not-found", "This video has no poster yet.");
    const { token } = await mintDownloadToken(d.signer, { video: link.video, ttlSeconds: POSTER_TOKEN_SECONDS, view: true });
    const upstream = await fetch(thumbnailUrl(d.config, token, POSTER_HEIGHT), {
      signal: AbortSignal.timeout(d.config.stream.timeoutMs),
    }).catch(() => null);
    const type = upstream?.headers.get("content-type") ?? "";
    if (upstream === null || !upstream.ok || !type.startsWith("image/")) {
      await upstream?.body?.cancel();
      throw retryLater("upstream-unavailable", "Stream did not send the poster.", 5);
    }
    return new Response(upstream.body, {
      headers: { "content-type": type, "cache-control": "private, max-age=300", "x-content-type-options": "nosniff", "x-robots-tag": "noindex, nofollow" },
    });
  });

  routes.post("/s/:id", documented(REDEEM), async (c) => {
    const body = parseInput(LinkDownloadBody, formOrJsonBody(c.req.raw, await readBody(c.req.raw, 4096)), "body");
    const d = deps(c);
    await enforceRateLimits(d.limiters, { ip: d.client.ip });
    const query = parseInput(LinkDownloadQuery, c.req.query(), "query");
    const mode = linkMode(c.req.raw, query.mode, d.config.deliveryModes);
    const link = await loadLink(d, c.req.param("id"));
    await requireCreatorStillEntitled(d, c, link);
    try {
      await checkPassword(d, link, body.password);
    } catch (error) {
      // A person with the wrong password gets the page back, with the reason, not a dead end.
      if (!(error instanceof Problem) || !wantsHtml(c.req.raw)) throw error;
      return landingPage(await pageFacts(d, link), d.config.stream.deliveryBase, d.config.brand, d.now, {
        status: error.status,
        reason: error.detail,
        headers: error.options.headers ?? {},
      });
    }

    const ensured = await ensureDownload(d, link.video, link.type);
    if (ensured.kind !== "ready") {
      const retryAfter = ensured.kind === "preparing" ? ensured.retryAfter : 1;
      const percent = ensured.kind === "preparing" ? ensured.percent : 0;
      return wantsHtml(c.req.raw)
        ? linkPreparingPage(await factsOf(d, link, ensured.kind === "preparing" ? ensured.state : null), d.config.stream.deliveryBase, d.config.brand, { percent, retryAfter }, body.password ?? null)
        : preparingResponse(c.req.raw, percent, retryAfter);
    }
    const access = accessFor(d, mode, link);
    // A grant must outlive the request: a link in its last seconds is as good as expired.
    if (link.expiresAt - d.now < MIN_GRANT_MS) throw new Problem("link-expired", "This link has expired.");
    const notAfter = Math.floor(link.expiresAt / 1000);

    // Minted first (a minting fault costs no use), then recorded (the creator's quota, the use,
    // the audit event); only then does anything that leads to the file leave the gateway.
    const request = { video: link.video, type: link.type, mode, name: ensured.videoName, access, notAfter };
    const minted = await mintGrant(d, request);
    const uses = await recordLinkGrant(d, d.db, link, grantAudit(d, request, minted, { link: link.id }));
    if (uses === null) {
      const current = await findLink(d.db, link.id);
      if (current === null) throw unknownLink();
      // Live again: a use taken by a request that then failed has just been given back.
      throw linkProblem(current, d.now) ?? retryLater("upstream-unavailable", "This link is busy. Try again in a moment.", 1);
    }
    if (uses === link.maxUses) {
      await d.events.notify(linkEvent("link.exhausted", link, d.now, { uses }));
    }
    return deliver(minted);
  });
  return routes;
}
