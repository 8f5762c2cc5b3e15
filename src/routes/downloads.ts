// The download routes (SPEC.md §1, §2). Each handler reads top to bottom as the request path:
// identify → entitle → ensure → mint → deliver → record.
import { Hono } from "hono";
import { z } from "zod";
import { identifyUser, type AppUser } from "../auth/identify";
import { type AppEnv, type Deps, deps } from "../context";
import { auditStatement } from "../db/audit";
import { requireEntitlement } from "../entitlement/entitle";
import { preparingResponse } from "../http/respond";
import { parseInput, parseUid, readJsonBody } from "../http/validate";
import { enforceRateLimits, takeDailyDownload } from "../limits";
import { Problem, invalidRequest } from "../problems";
import type { DownloadType } from "../stream/client";
import { ensureDownload, type Ensured } from "../stream/ensure";
import { accessRulesFor, handOver, startsDownload } from "./hand-over";

const Type = z.enum(["default", "audio"]).default("default");
// Long names are cut and reduced, never refused (SPEC §6); the cap only bounds the work.
const Filename = z.string().max(65_536).optional();

export const DownloadQuery = z.object({
  type: Type,
  mode: z.enum(["redirect", "stream"]).default("redirect"),
  filename: Filename,
});

export const DownloadUrlBody = z.object({ type: Type, filename: Filename }).strict();

function recordDownload(env: Env, d: Deps, user: AppUser, video: string, type: DownloadType, mode: string): void {
  const event = { at: d.now, user: user.id, link: null, video, type, mode, country: d.client.country, outcome: "granted" };
  d.waitUntil(
    auditStatement(env.DB, event)
      .run()
      .catch((error: unknown) => console.error("audit write failed", video, error instanceof Error ? error.message : error)),
  );
}

/** After identify: the limits, steps 2 and 3, shared by every route that hands out a download. */
async function prepare(d: Deps, env: Env, user: AppUser, video: string, type: DownloadType): Promise<Ensured> {
  await enforceRateLimits(env, { user: user.id, ip: d.client.ip });
  await requireEntitlement(d, user, video);
  return ensureDownload(d, video, type, { create: true });
}

function preparing(request: Request, ensured: Exclude<Ensured, { kind: "ready" }>): Response {
  return ensured.kind === "preparing"
    ? preparingResponse(request, ensured.percent, ensured.retryAfter)
    : preparingResponse(request, 0, 1);
}

/**
 * The daily quota, taken once the file is on its way (a failed stream-through costs nothing);
 * a resumed download (a Range past the start) is not a new one.
 */
async function chargeQuota(d: Deps, user: AppUser, request: Request, response: Response): Promise<Response> {
  if (!startsDownload(request)) return response;
  let remaining: number | null;
  try {
    remaining = await takeDailyDownload(d.db, d.config, user.id, d.now);
  } catch (error) {
    await response.body?.cancel();
    throw error;
  }
  if (remaining !== null) response.headers.set("x-downloads-remaining", String(remaining));
  return response;
}

export const downloadRoutes = new Hono<AppEnv>();

downloadRoutes.get("/v1/videos/:uid/download", async (c) => {
  const video = parseUid(c.req.param("uid"));
  const query = parseInput(DownloadQuery, c.req.query(), "query");
  const d = deps(c);
  if (!d.config.deliveryModes.has(query.mode)) throw invalidRequest("mode", `mode=${query.mode} is disabled on this gateway`);

  const user = await identifyUser(c.req.raw, d.config.auth, { allowCookie: true });
  const ensured = await prepare(d, c.env, user, video, query.type);
  if (ensured.kind !== "ready") return preparing(c.req.raw, ensured);
  const rules = accessRulesFor(d, query.mode);

  const name = query.filename ?? ensured.videoName;
  const { response } = await handOver(d, c.req.raw, { video, type: query.type, mode: query.mode, name, rules });
  const charged = await chargeQuota(d, user, c.req.raw, response);
  if (startsDownload(c.req.raw)) recordDownload(c.env, d, user, video, query.type, query.mode);
  return charged;
});

downloadRoutes.post("/v1/videos/:uid/download-url", async (c) => {
  const video = parseUid(c.req.param("uid"));
  const d = deps(c);
  if (!d.config.deliveryModes.has("redirect")) throw invalidRequest("mode", "download URLs (redirect mode) are disabled on this gateway");

  // Every POST needs the bearer header: the cookie is never enough to act (no CSRF).
  const user = await identifyUser(c.req.raw, d.config.auth, { allowCookie: false });
  const fields = parseInput(z.record(z.string(), z.unknown()), await readJsonBody(c.req.raw, 4096), "body");
  const body = parseInput(DownloadUrlBody, { ...c.req.query(), ...fields }, "body");
  const ensured = await prepare(d, c.env, user, video, body.type);
  if (ensured.kind !== "ready") return preparing(c.req.raw, ensured);
  const rules = accessRulesFor(d, "redirect");

  const name = body.filename ?? ensured.videoName;
  const { url, expiresAt } = await handOver(d, c.req.raw, { video, type: body.type, mode: "url", name, rules });
  const answer = c.json({ url, expiresAt: new Date(expiresAt * 1000).toISOString() }, 200, { "cache-control": "no-store" });
  const charged = await chargeQuota(d, user, c.req.raw, answer);
  recordDownload(c.env, d, user, video, body.type, "url");
  return charged;
});

downloadRoutes.get("/v1/videos/:uid/downloads", async (c) => {
  const video = parseUid(c.req.param("uid"));
  const d = deps(c);
  const user = await identifyUser(c.req.raw, d.config.auth, { allowCookie: true });
  await enforceRateLimits(c.env, { user: user.id, ip: d.client.ip });
  await requireEntitlement(d, user, video);
  const status = async (type: DownloadType) => {
    try {
      const ensured = await ensureDownload(d, video, type, { create: false });
      if (ensured.kind === "ready") return { status: "ready", percentComplete: 100 };
      if (ensured.kind === "absent") return { status: "none", percentComplete: 0 };
      return { status: "inprogress", percentComplete: ensured.percent, retryAfter: ensured.retryAfter };
    } catch (error) {
      if (error instanceof Problem && error.type === "download-failed") return { status: "error", percentComplete: 0 };
      throw error;
    }
  };
  const [defaultStatus, audioStatus] = await Promise.all([status("default"), status("audio")]);
  return c.json({ video, default: defaultStatus, audio: audioStatus }, 200, { "cache-control": "no-store" });
});
