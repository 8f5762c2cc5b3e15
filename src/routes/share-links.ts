// Share links for signed-in users: create, list, revoke (docs/http-api.md › Share links).
import { Hono, type Context } from "hono";
import * as z from "../input/zod";
import { DOWNLOAD_TYPES } from "../config/config";
import { type AppEnv, chargedTo, type Deps, deps } from "../gateway/context";
import { isCountryCode } from "../config/countries";
import { LINK_DELIVERIES, type ShareLink } from "../share-links/store";
import { listAuditEvents } from "../record/audit";
import { linkEvent, linkRevoked } from "../events/events";
import { requireEntitlement } from "../entitle/entitle";
import { decodeCursor, encodeCursor } from "../input/cursor";
import { jsonBody, pageLimit, parseInput, readBody } from "../input/validate";
import { linkNames, newLinkSecret } from "../share-links/ids";
import { hashPassword } from "../share-links/password";
import { linkProblem, remainingUses, unknownLink } from "../share-links/status";
import { refuseCrossSite, requireUser, videoParam, type UserEnv } from "./guards";
import { Problem, invalidRequest } from "../problems";
import { ensureDownload } from "../ensure/ensure";
import { body, bearerOnly, documented, LINK_ID, ok, problems, queryParameters, ref, UID, type Operation } from "./openapi";

const CreateLinkBody = z.strictObject({
  type: z._default(z.enum(DOWNLOAD_TYPES), "default"),
  expiresIn: z.int().check(z.minimum(60)),
  maxDownloads: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000))),
  countries: z.optional(
    z
      .array(z.string().check(z.maxLength(2), z.toUpperCase(), z.refine(isCountryCode, "must be ISO 3166-1 alpha-2 codes")))
      .check(z.minLength(1), z.maxLength(250)),
  ),
  lockToIp: z._default(z.boolean(), false),
  // "gateway": each grant is the gateway's /d/ URL, counted and revocable. "redirect": Stream's
  // URL, which nothing can count or revoke once handed out (docs/http-api.md › Share links).
  delivery: z.optional(z.enum(LINK_DELIVERIES)),
  password: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  note: z.optional(z.string().check(z.maxLength(500))),
  // Leak limits: suspended when used from more networks (IPv4 /24, IPv6 /48) or countries within
  // SHARE_LINK_LEAK_WINDOW; null turns the gateway's default off for this link.
  maxNetworks: z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(10_000)))),
  maxCountries: z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(250)))),
});

const UsesQuery = z.object({
  cursor: z.optional(z.string().check(z.maxLength(256))),
  limit: pageLimit(100, 50),
});

const ListLinksQuery = z.object({
  cursor: z.optional(z.string().check(z.maxLength(512))),
  limit: pageLimit(100, 25),
});

export function linkUrl(d: Deps, link: ShareLink): string {
  return `${d.base}/s/${link.secret}`;
}

function describe(d: Deps, link: ShareLink) {
  const now = d.now;
  return {
    id: link.id,
    url: linkUrl(d, link),
    video: link.video,
    type: link.type,
    delivery: link.delivery,
    createdAt: new Date(link.createdAt).toISOString(),
    expiresAt: new Date(link.expiresAt).toISOString(),
    maxDownloads: link.maxUses,
    uses: link.uses,
    remaining: remainingUses(link),
    countries: link.countries,
    lockToIp: link.lockToIp,
    passwordProtected: link.passwordHash !== null,
    note: link.note,
    maxNetworks: link.maxNetworks,
    maxCountries: link.maxCountries,
    suspension:
      link.suspension === null ? null : { at: new Date(link.suspension.at).toISOString(), networks: link.suspension.networks, countries: link.suspension.countries },
    status: linkProblem(link, now)?.type ?? "active",
  };
}

const CREATE = (): Operation => ({
  summary: "Create a share link",
  security: bearerOnly,
  parameters: [UID],
  requestBody: body(CreateLinkBody),
  responses: {
    201: ok("The link", ref("CreatedLink")),
    ...problems("invalid-request", "payload-too-large", "rate-limited", "too-many-links", "unauthenticated", "not-entitled", "cross-site-request", "video-not-ready", "video-not-protected", "video-not-downloadable", "misconfigured", "download-failed", "upstream-unavailable"),
  },
});

const LIST = (): Operation => ({
  summary: "The caller's share links, newest first",
  security: bearerOnly,
  parameters: queryParameters(ListLinksQuery),
  responses: { 200: ok("A page of links", { type: "object" }), ...problems("invalid-request", "unauthenticated", "rate-limited") },
});

const USES = (): Operation => ({
  summary: "A link's uses, newest first: when, country, coarse network (from the audit trail, about a second behind)",
  security: bearerOnly,
  parameters: [LINK_ID, ...queryParameters(UsesQuery)],
  responses: { 200: ok("A page of uses", { type: "object" }), ...problems("invalid-request", "unauthenticated", "not-found", "rate-limited") },
});

const REINSTATE = (): Operation => ({
  summary: "Lift a leak suspension of one of the caller's links; its earlier uses stop counting",
  security: bearerOnly,
  parameters: [LINK_ID],
  responses: { 200: ok("The link", { type: "object" }), ...problems("unauthenticated", "cross-site-request", "not-found", "rate-limited") },
});

const REVOKE = (): Operation => ({
  summary: "Revoke one of the caller's share links",
  security: bearerOnly,
  parameters: [LINK_ID],
  responses: { 204: { description: "Revoked" }, ...problems("unauthenticated", "cross-site-request", "not-found", "rate-limited") },
});

export function shareLinkRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  // The limits come before the password's PBKDF2 and any Stream call: creating links costs both.
  routes.post("/v1/videos/:uid/share-links", documented(CREATE), videoParam, refuseCrossSite, requireUser({ allowCookie: false }), async (c) => {
    const bytes = await readBody(c.req.raw, 8192);
    const video = c.var.video;
    const d = deps(c);
    const user = c.var.user;
    const body = parseInput(CreateLinkBody, jsonBody(c.req.raw, bytes), "body");
    if (body.expiresIn > d.config.shareLinkMaxTtlSeconds) {
      throw invalidRequest("expiresIn", `expiresIn must be at most ${d.config.shareLinkMaxTtlSeconds} seconds`);
    }
    // Through the gateway unless asked otherwise, where the deployment streams at all.
    const delivery = body.delivery ?? (d.config.deliveryModes.has("stream") ? "gateway" : "redirect");
    if ((body.lockToIp || delivery === "gateway") && !d.config.deliveryModes.has("stream")) {
      throw invalidRequest(body.lockToIp ? "lockToIp" : "delivery", "this link would be delivered through the gateway, and stream mode is disabled on this gateway");
    }
    if (delivery === "redirect" && !d.config.deliveryModes.has("redirect")) {
      throw invalidRequest("delivery", "redirect mode is disabled on this gateway");
    }
    const source = await requireEntitlement(d, user, video, c);
    // Checks now that the video can be served at all, and starts Stream on the file, so that the
    // people the link is for rarely wait. A link is not refused because the file is still being made.
    const ensured = await ensureDownload(chargedTo(d, user.id), video, body.type);

    const { secret, publicId } = await linkNames(newLinkSecret());
    const link: ShareLink = {
      id: publicId,
      secret,
      creator: user.id,
      video,
      type: body.type,
      delivery,
      createdAt: d.now,
      expiresAt: d.now + body.expiresIn * 1000,
      maxUses: body.maxDownloads ?? null,
      uses: 0,
      countries: body.countries ? [...new Set(body.countries)].sort() : null,
      lockToIp: body.lockToIp,
      passwordHash: body.password === undefined ? null : await hashPassword(body.password),
      note: body.note ?? null,
      title: ensured.kind === "ready" ? ensured.videoName : (ensured.state?.videoName ?? null),
      fromGrant: source === "grant",
      revokedAt: null,
      maxNetworks: body.maxNetworks === undefined ? d.config.shareLinkLeak.maxNetworks : body.maxNetworks,
      maxCountries: body.maxCountries === undefined ? d.config.shareLinkLeak.maxCountries : body.maxCountries,
      suspension: null,
      reinstatedAt: null,
    };
    if (!(await d.links.create(link, d.config.shareLinkMaxActive))) {
      throw new Problem("too-many-links", `You already have ${d.config.shareLinkMaxActive} active share links; revoke some first.`, {
        extensions: { limit: d.config.shareLinkMaxActive },
      });
    }
    await d.events.notify(
      linkEvent("link.created", link, d.now, {
        type: link.type,
        expiresAt: new Date(link.expiresAt).toISOString(),
        maxDownloads: link.maxUses,
        password: link.passwordHash !== null,
      }),
    );
    return c.json({ id: link.id, url: linkUrl(d, link), delivery, expiresAt: new Date(link.expiresAt).toISOString() }, 201, {
      "cache-control": "no-store",
    });
  });

  routes.get("/v1/share-links", documented(LIST), requireUser({ allowCookie: false }), async (c) => {
    const query = parseInput(ListLinksQuery, c.req.query(), "query");
    const d = deps(c);
    const user = c.var.user;
    const key = decodeCursor(query.cursor, "number", "string");
    const page = await d.links.list(user.id, { cursor: key && { createdAt: key[0], id: key[1] }, limit: query.limit });
    return c.json(
      {
        links: page.links.map((link) => describe(d, link)),
        nextCursor: page.next === null ? null : encodeCursor([page.next.createdAt, page.next.id]),
      },
      200,
      { "cache-control": "no-store" },
    );
  });

  routes.get("/v1/share-links/:id/uses", documented(USES), requireUser({ allowCookie: false }), async (c) => {
    const query = parseInput(UsesQuery, c.req.query(), "query");
    const d = deps(c);
    const link = await ownLink(d, c);
    const key = decodeCursor(query.cursor, "number", "number");
    const page = await listAuditEvents(d.db, { link: link.id, after: key && { at: key[0], id: key[1] }, limit: query.limit });
    return c.json(
      {
        uses: page.events.map((e) => ({ at: new Date(e.at).toISOString(), country: e.country, network: e.network, mode: e.mode, outcome: e.outcome })),
        nextCursor: page.next === null ? null : encodeCursor([page.next.at, page.next.id]),
      },
      200,
      { "cache-control": "no-store" },
    );
  });

  routes.post("/v1/share-links/:id/reinstate", documented(REINSTATE), refuseCrossSite, requireUser({ allowCookie: false }), async (c) => {
    const d = deps(c);
    const link = await ownLink(d, c);
    // A link that was not suspended is answered as it is.
    const reinstated = await d.links.reinstate(link, d.now);
    if (reinstated !== null) {
      await d.events.notify(linkEvent("link.reinstated", link, d.now));
    }
    return c.json(describe(d, reinstated ?? link), 200, { "cache-control": "no-store" });
  });

  routes.delete("/v1/share-links/:id", documented(REVOKE), refuseCrossSite, requireUser({ allowCookie: false }), async (c) => {
    const d = deps(c);
    const link = await ownLink(d, c);
    if (await d.links.revoke(link.id, d.now, link.creator)) await d.events.notify(linkRevoked(link, d.now, "creator"));
    return c.body(null, 204);
  });
  return routes;
}

/** The caller's own link by the path's id; another user's, an unknown and a malformed id answer alike (no oracle). */
async function ownLink(d: Deps, c: Context<UserEnv>): Promise<ShareLink> {
  const link = await d.links.forOwner(c.req.param("id") ?? "");
  if (!link || link.creator !== c.var.user.id) throw unknownLink();
  return link;
}
