// GET /v1/admin/audit (SPEC.md §3): the audit trail, newest first, paged by an opaque cursor.
// Admin auth comes from the middleware on /v1/admin/* in index.ts (audit.test.ts checks it).
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, deps } from "../context";
import { listAuditEvents, type AuditPosition } from "../db/audit";
import { UID_PATTERN, parseInput } from "../http/validate";
import { invalidRequest } from "../problems";

const MAX_LIMIT = 1000;

const AuditQuery = z.object({
  video: z.string().regex(UID_PATTERN, "must be a 32-character lowercase hex Stream video UID").optional(),
  user: z.string().min(1).max(256).optional(),
  link: z.string().min(1).max(256).optional(),
  since: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
  cursor: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
});

// base64url of JSON [at, id]: opaque to clients, so the order key can change without breaking them.
function encodeCursor(p: AuditPosition): string {
  return btoa(JSON.stringify([p.at, p.id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string | undefined): AuditPosition | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [at, id] = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))) as unknown[];
    if (Number.isSafeInteger(at) && Number.isSafeInteger(id)) return { at: at as number, id: id as number };
  } catch {
    // Falls through to the problem below.
  }
  throw invalidRequest("cursor", "cursor is not one this API returned");
}

export const auditRoutes = new Hono<AppEnv>();

auditRoutes.get("/v1/admin/audit", async (c) => {
  const query = parseInput(AuditQuery, c.req.query(), "query");
  const page = await listAuditEvents(deps(c).db, {
    video: query.video,
    user: query.user,
    link: query.link,
    since: query.since === undefined ? undefined : Date.parse(query.since),
    after: decodeCursor(query.cursor),
    limit: query.limit,
  });
  return c.json({
    events: page.events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    nextCursor: page.next === null ? null : encodeCursor(page.next),
  });
});
