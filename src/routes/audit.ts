// GET /v1/admin/audit (SPEC.md §3): the audit trail, newest first, paged by an opaque cursor.
// Admin auth comes from the middleware on /v1/admin/* in index.ts (audit.test.ts checks it).
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, deps } from "../context";
import { listAuditEvents } from "../db/audit";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { UID_PATTERN, parseInput } from "../http/validate";

const MAX_LIMIT = 1000;

export const AuditQuery = z.object({
  video: z.string().regex(UID_PATTERN, "must be a 32-character lowercase hex Stream video UID").optional(),
  user: z.string().min(1).max(256).optional(),
  link: z.string().min(1).max(256).optional(),
  since: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
  cursor: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
});

export const auditRoutes = new Hono<AppEnv>();

auditRoutes.get("/v1/admin/audit", async (c) => {
  const query = parseInput(AuditQuery, c.req.query(), "query");
  const page = await listAuditEvents(deps(c).db, {
    video: query.video,
    user: query.user,
    link: query.link,
    since: query.since === undefined ? undefined : Date.parse(query.since),
    after: ((key) => key && { at: key[0], id: key[1] })(decodeCursor(query.cursor, "number", "number")),
    limit: query.limit,
  });
  return c.json({
    events: page.events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    nextCursor: page.next === null ? null : encodeCursor([page.next.at, page.next.id]),
  });
});
