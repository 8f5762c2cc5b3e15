// The admin API for the app's backend (docs/http-api.md › Routes): grants, the kill switch, cache refresh,
// share-link revocations and the audit trail, the same actions a mounting app calls in code
// (admin/actions.ts). The router guards itself, so mounted anywhere (under /v1/admin here) none
// of it is reachable without the admin token.
import { Hono } from "hono";
import * as z from "../input/zod";
import { requireAdmin } from "../identify/admin";
import { type AppEnv, deps } from "../gateway/context";
import { AuditFilter, BlockReason, gatewayAdmin, GrantPairs, LinksOf, MAX_BATCH, User, Video } from "../admin/actions";
import { forgetFailures, listFailures, oldestFailures } from "../events/failures";
import { invalidRequest, retryLater, errorText } from "../problems";
import { listGrants } from "../entitle/grants-table";
import { decodeCursor, encodeCursor } from "../input/cursor";
import { pageLimit, parseInput, parseUid, readJsonBody } from "../input/validate";
import { unknownLink } from "../share-links/status";
import { forgetVideo } from "../ensure/ensure";
import { adminOnly, body, documented, LINK_ID, ok, problems, queryParameters, UID, type Operation } from "./openapi";

const GrantsPut = z.strictObject({
  grants: z
    .array(z.strictObject({ user: User, video: Video, expiresAt: z.optional(z.nullable(z.iso.datetime({ offset: true }))) }))
    .check(z.minLength(1), z.maxLength(MAX_BATCH)),
});

const GrantsDelete = z.strictObject({ grants: GrantPairs });

const GrantsQuery = z.object({
  user: z.optional(User),
  video: z.optional(Video),
  cursor: z.optional(z.string().check(z.maxLength(1024))),
  limit: pageLimit(MAX_BATCH, 100),
});

const BlockBody = z.strictObject({ reason: BlockReason });

const AuditQuery = z.object({ ...AuditFilter, since: z.optional(z.union([z.iso.datetime({ offset: true }), z.iso.date()])) });

const FailedEventsQuery = z.object({
  cursor: z.optional(z.string().check(z.maxLength(256))),
  limit: pageLimit(MAX_BATCH, 100),
});

const RedeliverBody = z.strictObject({ limit: z.optional(z.int().check(z.minimum(1), z.maximum(100))) });

const PUT_GRANTS = (): Operation => ({ summary: "Upsert grants (≤ 1,000)", security: adminOnly, requestBody: body(GrantsPut), responses: { 200: ok("Upserted", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } });
const DELETE_GRANTS = (): Operation => ({ summary: "Delete grants (≤ 1,000)", security: adminOnly, requestBody: body(GrantsDelete), responses: { 200: ok("Deleted", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } });
const LIST_GRANTS = (): Operation => ({ summary: "List grants", security: adminOnly, parameters: queryParameters(GrantsQuery), responses: { 200: ok("A page of grants", { type: "object" }), ...problems("invalid-request", "unauthenticated") } });
const BLOCK = (): Operation => ({ summary: "Kill switch: refuse every download of the video and revoke its links", security: adminOnly, parameters: [UID], requestBody: body(BlockBody, false), responses: { 200: ok("Blocked", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } });
const UNBLOCK = (): Operation => ({ summary: "Lift the kill switch", security: adminOnly, parameters: [UID], responses: { 200: ok("Unblocked", { type: "object" }), ...problems("invalid-request", "unauthenticated") } });
const REFRESH = (): Operation => ({ summary: "Forget cached download state", security: adminOnly, parameters: [UID], responses: { 200: ok("Refreshed", { type: "object" }), ...problems("invalid-request", "unauthenticated") } });
const REVOKE_LINK = (): Operation => ({ summary: "Revoke any share link", security: adminOnly, parameters: [LINK_ID], responses: { 204: { description: "Revoked" }, ...problems("unauthenticated", "not-found") } });
const REVOKE_LINKS = (): Operation => ({ summary: "Revoke every link of a user or a video", security: adminOnly, requestBody: body(LinksOf), responses: { 200: ok("How many were revoked", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } });
const FAILED_EVENTS = (): Operation => ({ summary: "Events EVENTS_URL never accepted, newest first", security: adminOnly, parameters: queryParameters(FailedEventsQuery), responses: { 200: ok("A page of failed deliveries", { type: "object" }), ...problems("invalid-request", "unauthenticated") } });
const REDELIVER = (): Operation => ({ summary: "Queue the oldest failed events again (≤ 100)", security: adminOnly, requestBody: body(RedeliverBody, false), responses: { 200: ok("How many were queued", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated", "upstream-unavailable") } });
const AUDIT = (): Operation => ({ summary: "The audit trail, newest first", security: adminOnly, parameters: queryParameters(AuditQuery), responses: { 200: ok("A page of events", { type: "object" }), ...problems("invalid-request", "unauthenticated") } });

export function adminRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.use("*", async (c, next) => {
    await requireAdmin(c.req.raw, c.get("gateway").admin);
    await next();
  });

  routes.put("/grants", documented(PUT_GRANTS), async (c) => {
    const body = parseInput(GrantsPut, await readJsonBody(c.req.raw, 256 * 1024), "body");
    const grants = body.grants.map((g) => ({ ...g, expiresAt: g.expiresAt ? new Date(g.expiresAt) : null }));
    return c.json(await gatewayAdmin(deps(c)).grant(grants));
  });

  routes.delete("/grants", documented(DELETE_GRANTS), async (c) => {
    const body = parseInput(GrantsDelete, await readJsonBody(c.req.raw, 256 * 1024), "body");
    return c.json(await gatewayAdmin(deps(c)).revokeGrants(body.grants));
  });

  routes.get("/grants", documented(LIST_GRANTS), async (c) => {
    const query = parseInput(GrantsQuery, c.req.query(), "query");
    const key = decodeCursor(query.cursor, "string", "string");
    const page = await listGrants(deps(c).db, { ...query, cursor: key && { user: key[0], video: key[1] } });
    return c.json({
      grants: page.grants.map((g) => ({ ...g, expiresAt: g.expiresAt === null ? null : new Date(g.expiresAt).toISOString() })),
      nextCursor: page.next === null ? null : encodeCursor([page.next.user, page.next.video]),
    });
  });

  routes.post("/videos/:uid/block", documented(BLOCK), async (c) => {
    const video = parseUid(c.req.param("uid"));
    const body = parseInput(BlockBody, await readJsonBody(c.req.raw, 4096), "body");
    const { linksRevoked } = await gatewayAdmin(deps(c)).block(video, body.reason);
    return c.json({ video, blocked: true, linksRevoked });
  });

  routes.post("/videos/:uid/unblock", documented(UNBLOCK), async (c) => {
    const video = parseUid(c.req.param("uid"));
    const { wasBlocked } = await gatewayAdmin(deps(c)).unblock(video);
    return c.json({ video, blocked: false, wasBlocked });
  });

  // For apps that keep their own Stream webhook: drop what the gateway believes about the video.
  routes.post("/videos/:uid/refresh", documented(REFRESH), async (c) => {
    const video = parseUid(c.req.param("uid"));
    await forgetVideo(deps(c), video);
    return c.json({ video, refreshed: true });
  });

  routes.delete("/share-links/:id", documented(REVOKE_LINK), async (c) => {
    const { found } = await gatewayAdmin(deps(c)).revokeLink(c.req.param("id"));
    if (!found) throw unknownLink();
    return c.body(null, 204);
  });

  routes.post("/share-links/revoke", documented(REVOKE_LINKS), async (c) => {
    const body = parseInput(LinksOf, await readJsonBody(c.req.raw, 4096), "body");
    return c.json(await gatewayAdmin(deps(c)).revokeLinks(body as { user: string } | { video: string }));
  });

  routes.get("/events/failed", documented(FAILED_EVENTS), async (c) => {
    const query = parseInput(FailedEventsQuery, c.req.query(), "query");
    const key = decodeCursor(query.cursor, "number", "string");
    const page = await listFailures(deps(c).db, { after: key && { failedAt: key[0], id: key[1] }, limit: query.limit });
    return c.json({
      failures: page.failures.map((f) => ({ ...f, event: { ...f.event, at: new Date(f.event.at).toISOString() }, failedAt: new Date(f.failedAt).toISOString() })),
      nextCursor: page.next === null ? null : encodeCursor([page.next.failedAt, page.next.id]),
    });
  });

  // After the app's receiver is fixed: the oldest failures go back to the queue, with their ids,
  // so a receiver that did get one after all can drop it. Queued first, forgotten after: a failure
  // is never lost between the two (two calls at once may queue one twice, under the same id).
  routes.post("/events/failed/redeliver", documented(REDELIVER), async (c) => {
    const body = parseInput(RedeliverBody, await readJsonBody(c.req.raw, 1024), "body");
    const d = deps(c);
    if (d.eventPoster === null) throw invalidRequest("EVENTS_URL", "events are off on this gateway: set EVENTS_URL and EVENTS_SECRET first");
    const events = await oldestFailures(d.db, body.limit ?? 100);
    try {
      await d.events.send(events);
    } catch (error) {
      console.error("events: redelivery could not be queued", errorText(error));
      throw retryLater("upstream-unavailable", "The events could not be queued again. Try again shortly.", 5);
    }
    await forgetFailures(d.db, events.map((e) => e.id));
    return c.json({ queued: events.length });
  });

  routes.get("/audit", documented(AUDIT), async (c) => {
    const { since, ...query } = parseInput(AuditQuery, c.req.query(), "query");
    return c.json(await gatewayAdmin(deps(c)).audit({ ...query, ...(since === undefined ? {} : { since: new Date(since) }) }));
  });
  return routes;
}
