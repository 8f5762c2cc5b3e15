// The download routes (docs/design.md, docs/http-api.md). Each handler reads top to bottom as the request path:
// identify → entitle → ensure → mint → record → deliver. A grant is recorded (its quota unit and
// its audit event) before anything that leads to the file leaves the gateway.
import { Hono } from "hono";
import * as z from "../input/zod";
import type { AppUser } from "../identify/app-token";
import { type AppContext, type AppEnv, chargedTo, type Deps, deps } from "../gateway/context";
import { requireEntitlement } from "../entitle/entitle";
import { preparingJson, preparingResponse } from "./respond";
import { jsonBody, parseInput, parseUid, readBody } from "../input/validate";
import { recordUserGrant } from "../record/grant";
import { enforceRateLimits } from "../limits/rate-limits";
import { refuseCrossSite } from "../identify/cross-site";
import { invalidRequest } from "../problems";
import { DELIVERY_MODES, DOWNLOAD_TYPES, type DownloadType } from "../config/config";
import { downloadStatus, ensureDownload, lookUpDownload, type Ensured } from "../ensure/ensure";
import { accessFor, deliver, deliverHead, grantAudit, mintGrant, type GrantRequest } from "../deliver/hand-over";
import { body, bearerOnly, documented, ok, PREPARING, problems, queryParameters, REDIRECT, ref, TICKET, UID, userAuth, type Operation } from "./openapi";

const Type = z._default(z.enum(DOWNLOAD_TYPES), "default");
// Long names are cut and reduced, never refused (docs/http-api.md); the cap only bounds the work.
const Filename = z.optional(z.string().check(z.maxLength(65_536)));

const DownloadQuery = z.object({
  type: Type,
  mode: z._default(z.enum(DELIVERY_MODES), "redirect"),
  filename: Filename,
});

const DownloadUrlBody = z.strictObject({ type: Type, filename: Filename });

/** After identify: the limits and steps 2 and 3, shared by every route that hands out a download. */
async function prepare(d: Deps, c: AppContext, user: AppUser, video: string, type: DownloadType, readOnly: boolean): Promise<Ensured> {
  await enforceRateLimits(d.limiters, { user: user.id, ip: d.client.ip });
  await requireEntitlement(d, user, video, c);
  const charged = chargedTo(d, user.id);
  return readOnly ? lookUpDownload(charged, video, type) : ensureDownload(charged, video, type);
}

/** How far Stream is with the file, and when to ask again. */
function progress(d: Deps, ensured: Exclude<Ensured, { kind: "ready" }>): { percent: number; retryAfter: number } {
  // "absent" only answers a HEAD, which creates nothing: the GET would start the download and say
  // to come back after a poll interval.
  return ensured.kind === "preparing" ? ensured : { percent: 0, retryAfter: d.config.pollIntervalSeconds };
}

/** Steps 4 to 6 for a signed-in user: mint, record the grant (quota, audit), deliver. */
async function grant(d: Deps, user: AppUser, g: GrantRequest): Promise<Response> {
  const minted = await mintGrant(d, g);
  const remaining = await recordUserGrant(d, grantAudit(d, g, minted, { user: user.id }));
  const response = deliver(minted);
  if (remaining !== null) response.headers.set("x-downloads-remaining", String(remaining));
  return response;
}

const DOWNLOAD = (): Operation => ({
  summary: "Download a video (MP4) or its audio (M4A)",
  security: userAuth,
  parameters: [UID, ...queryParameters(DownloadQuery)],
  responses: {
    202: PREPARING,
    302: REDIRECT,
    303: TICKET,
    ...problems("invalid-request", "unauthenticated", "not-entitled", "cross-site-request", "video-not-ready", "video-not-protected", "video-not-downloadable", "rate-limited", "quota-exceeded", "misconfigured", "download-failed", "download-preparing", "upstream-unavailable"),
  },
});

const DOWNLOAD_URL = (): Operation => ({
  summary: "A signed download URL, for a button that calls fetch first",
  security: bearerOnly,
  parameters: [UID],
  requestBody: body(DownloadUrlBody, false),
  responses: {
    200: ok("The URL and when its token expires", ref("DownloadUrl")),
    202: PREPARING,
    ...problems("invalid-request", "payload-too-large", "unauthenticated", "not-entitled", "cross-site-request", "video-not-ready", "video-not-protected", "video-not-downloadable", "rate-limited", "quota-exceeded", "misconfigured", "download-failed", "upstream-unavailable"),
  },
});

const STATUS = (): Operation => ({
  summary: "Download state of both types, for progress UI",
  security: userAuth,
  parameters: [UID],
  responses: {
    200: ok("State per type", ref("DownloadStates")),
    ...problems("invalid-request", "unauthenticated", "not-entitled", "video-not-ready", "video-not-protected", "rate-limited", "misconfigured", "upstream-unavailable"),
  },
});

export function downloadRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  // Hono answers HEAD with this GET handler; a HEAD takes, records and creates nothing (see below).
  routes.get("/v1/videos/:uid/download", documented(DOWNLOAD), refuseCrossSite, async (c) => {
    const video = parseUid(c.req.param("uid"));
    const query = parseInput(DownloadQuery, c.req.query(), "query");
    const d = deps(c);
    if (!d.config.deliveryModes.has(query.mode)) throw invalidRequest("mode", `mode=${query.mode} is disabled on this gateway`);
    const head = c.req.raw.method === "HEAD";

    const user = await d.identify(c, { allowCookie: true });
    const ensured = await prepare(d, c, user, video, query.type, head);
    if (ensured.kind !== "ready") {
      const { percent, retryAfter } = progress(d, ensured);
      return preparingResponse(c.req.raw, percent, retryAfter);
    }
    const access = accessFor(d, query.mode);
    if (head) {
      // What the GET would answer, quota included, without taking anything.
      const left = (await d.quota?.check(user.id, d.now)) ?? null;
      const response = deliverHead(access);
      if (left !== null) response.headers.set("x-downloads-remaining", String(left));
      return response;
    }

    const name = query.filename ?? ensured.videoName;
    return grant(d, user, { video, type: query.type, mode: query.mode, name, access });
  });

  routes.post("/v1/videos/:uid/download-url", documented(DOWNLOAD_URL), refuseCrossSite, async (c) => {
    const bytes = await readBody(c.req.raw, 4096);
    const video = parseUid(c.req.param("uid"));
    const d = deps(c);
    if (!d.config.deliveryModes.has("redirect")) throw invalidRequest("mode", "download URLs (redirect mode) are disabled on this gateway");

    // Every POST needs the bearer header: the cookie is never enough to act (no CSRF).
    const user = await d.identify(c, { allowCookie: false });
    const fields = parseInput(z.record(z.string(), z.unknown()), jsonBody(c.req.raw, bytes), "body");
    const body = parseInput(DownloadUrlBody, { ...c.req.query(), ...fields }, "body");
    const ensured = await prepare(d, c, user, video, body.type, false);
    if (ensured.kind !== "ready") {
      // Its answer is JSON whatever the client: the 202 is never mistaken for the file.
      const { percent, retryAfter } = progress(d, ensured);
      return preparingJson(percent, retryAfter);
    }
    const access = accessFor(d, "redirect");

    const name = body.filename ?? ensured.videoName;
    return grant(d, user, { video, type: body.type, mode: "url", name, access });
  });

  routes.get("/v1/videos/:uid/downloads", documented(STATUS), async (c) => {
    const video = parseUid(c.req.param("uid"));
    const d = deps(c);
    const user = await d.identify(c, { allowCookie: true });
    await enforceRateLimits(d.limiters, { user: user.id, ip: d.client.ip });
    await requireEntitlement(d, user, video, c);
    const status = await downloadStatus(chargedTo(d, user.id), video);
    return c.json({ video, ...status }, 200, { "cache-control": "no-store" });
  });
  return routes;
}
