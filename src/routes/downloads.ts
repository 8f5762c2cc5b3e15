// The download routes (docs/design.md, docs/http-api.md). Each reads top to bottom as the request
// path: its guards identify and limit (routes/guards.ts), then the handler entitles, ensures,
// mints, records and delivers. A grant is recorded (its quota unit and its audit event) before
// anything that leads to the file leaves the gateway.
import { Hono, type Context } from "hono";
import * as z from "../input/zod";
import type { AppUser } from "../identify/app-token";
import { type AppEnv, chargedTo, type Deps, deps } from "../gateway/context";
import { requireEntitlement } from "../entitle/entitle";
import { preparingJson, preparingResponse } from "./respond";
import { jsonBody, parseInput, readBody } from "../input/validate";
import { grantAudit, recordUserGrant } from "../record/grant";
import { invalidRequest } from "../problems";
import { DOWNLOAD_TYPES, type DownloadType } from "../config/config";
import { downloadStatus, ensureDownload, lookUpDownload, type Ensured } from "../ensure/ensure";
import type { GrantRequest } from "../mint/grant";
import { DELIVERY_MODES, deliveryTo, grantJson, type DeliveryMode } from "../deliver/modes";
import type { Delivery } from "../deliver/mode";
import { refuseCrossSite, requireUser, videoParam, type UserEnv } from "./guards";
import { body, bearerOnly, documented, ok, PREPARING, problems, queryParameters, DELIVERED, ref, UID, userAuth, type Operation } from "./openapi";

const Type = z._default(z.enum(DOWNLOAD_TYPES), "default");
// Long names are cut and reduced, never refused (docs/http-api.md); the cap only bounds the work.
const Filename = z.optional(z.string().check(z.maxLength(65_536)));

const DownloadQuery = z.object({
  type: Type,
  mode: z._default(z.enum(DELIVERY_MODES), "redirect"),
  filename: Filename,
});

const DownloadUrlBody = z.strictObject({ type: Type, filename: Filename });

/** Steps 2 and 3 for a route behind `requireUser`, shared by every route that hands out a download. */
async function prepare<E extends UserEnv>(d: Deps, c: Context<E>, video: string, type: DownloadType, readOnly: boolean): Promise<Ensured> {
  await requireEntitlement(d, c.var.user, video, c);
  const charged = chargedTo(d, c.var.user.id);
  return readOnly ? lookUpDownload(charged, video, type) : ensureDownload(charged, video, type);
}

/** How far Stream is with the file, and when to ask again. */
function progress(d: Deps, ensured: Exclude<Ensured, { kind: "ready" }>): { percent: number; retryAfter: number } {
  // "absent" only answers a HEAD, which creates nothing: the GET would start the download and say
  // to come back after a poll interval.
  return ensured.kind === "preparing" ? ensured : { percent: 0, retryAfter: d.config.pollIntervalSeconds };
}

/** Steps 4 to 6 for a signed-in user: mint, record the grant (quota, audit), deliver (as JSON for `download-url`). */
async function grant(d: Deps, user: AppUser, g: GrantRequest, delivery: Delivery, asUrl: boolean): Promise<Response> {
  const minted = await delivery.mint(d, g);
  const remaining = await recordUserGrant(d, grantAudit(d, g, asUrl ? "url" : minted.mode, { user: user.id }));
  const response = asUrl ? grantJson(minted) : delivery.respond(minted);
  if (remaining !== null) response.headers.set("x-downloads-remaining", String(remaining));
  return response;
}

/** The delivery mode, refused when this gateway has it disabled. */
function requireEnabled(d: Deps, mode: DeliveryMode, what = `mode=${mode}`): void {
  if (!d.config.deliveryModes.has(mode)) throw invalidRequest("mode", `${what} is disabled on this gateway`);
}

const DOWNLOAD = (): Operation => ({
  summary: "Download a video (MP4) or its audio (M4A)",
  security: userAuth,
  parameters: [UID, ...queryParameters(DownloadQuery)],
  responses: {
    202: PREPARING,
    ...DELIVERED,
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
  routes.get("/v1/videos/:uid/download", documented(DOWNLOAD), videoParam, refuseCrossSite, requireUser({ allowCookie: true }), async (c) => {
    const video = c.var.video;
    const query = parseInput(DownloadQuery, c.req.query(), "query");
    const d = deps(c);
    requireEnabled(d, query.mode);
    const head = c.req.raw.method === "HEAD";

    const ensured = await prepare(d, c, video, query.type, head);
    if (ensured.kind !== "ready") {
      const { percent, retryAfter } = progress(d, ensured);
      return preparingResponse(c.req.raw, percent, retryAfter);
    }
    const { access, delivery } = deliveryTo(d, query.mode);
    if (head) {
      // What the GET would answer, quota included, without taking anything.
      const left = (await d.quota?.check(c.var.user.id, { at: d.now, country: d.client.country })) ?? null;
      const response = delivery.head();
      if (left !== null) response.headers.set("x-downloads-remaining", String(left));
      return response;
    }

    const name = query.filename ?? ensured.videoName;
    return grant(d, c.var.user, { video, type: query.type, name, access }, delivery, false);
  });

  // Every POST needs the bearer header: the cookie is never enough to act (no CSRF).
  routes.post("/v1/videos/:uid/download-url", documented(DOWNLOAD_URL), videoParam, refuseCrossSite, requireUser({ allowCookie: false }), async (c) => {
    const bytes = await readBody(c.req.raw, 4096);
    const video = c.var.video;
    const d = deps(c);
    requireEnabled(d, "redirect", "download URLs (redirect mode)");

    const fields = parseInput(z.record(z.string(), z.unknown()), jsonBody(c.req.raw, bytes), "body");
    const body = parseInput(DownloadUrlBody, { ...c.req.query(), ...fields }, "body");
    const ensured = await prepare(d, c, video, body.type, false);
    if (ensured.kind !== "ready") {
      // Its answer is JSON whatever the client: the 202 is never mistaken for the file.
      const { percent, retryAfter } = progress(d, ensured);
      return preparingJson(percent, retryAfter);
    }
    const { access, delivery } = deliveryTo(d, "redirect");

    const name = body.filename ?? ensured.videoName;
    return grant(d, c.var.user, { video, type: body.type, name, access }, delivery, true);
  });

  routes.get("/v1/videos/:uid/downloads", documented(STATUS), videoParam, requireUser({ allowCookie: true }), async (c) => {
    const video = c.var.video;
    const d = deps(c);
    await requireEntitlement(d, c.var.user, video, c);
    const status = await downloadStatus(chargedTo(d, c.var.user.id), video);
    return c.json({ video, ...status }, 200, { "cache-control": "no-store" });
  });
  return routes;
}
