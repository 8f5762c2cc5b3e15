// What the app's backend may do to the gateway, once: grant and revoke rights, revoke links, block
// and unblock videos, read the audit trail. The admin API (routes/admin.ts) calls these with a
// request's parsed body; an app that mounts the library calls them in code from its own handlers
// (`downloads.admin(env)`: a refund handler, a moderation tool), with no HTTP and no token. Each
// change is seen at once in this isolate and within MEMORY_CACHE_SECONDS elsewhere, and sends the
// app's events as the admin API does.
import { isUserId } from "../identify/app-token";
import * as z from "../input/zod";
import type { Deps } from "../gateway/context";
import { block, putGrants, removeGrants, unblock } from "./manage";
import { appEvent, linkRevoked } from "../events/events";
import { decodeCursor, encodeCursor } from "../input/cursor";
import { pageLimit, parseInput, UID_PATTERN } from "../input/validate";
import { auditFreshness, listAuditEvents, type AuditRecord, type ConsumerState } from "../record/audit";

/** Grants, deletions and audit pages at most this large per call. */
export const MAX_BATCH = 1000;

// The ids identify can let through, and no other: a grant to any other would never match anyone.
export const User = z.string().check(z.refine(isUserId, "must be 1 to 256 characters of well-formed text without control characters"));
export const Video = z.string().check(z.regex(UID_PATTERN, "must be a 32-character lowercase hex Stream video UID"));
const Grants = <T extends z.ZodMiniType>(grant: T) => z.array(grant).check(z.minLength(1), z.maxLength(MAX_BATCH));
export const GrantPairs = Grants(z.strictObject({ user: User, video: Video }));
export const BlockReason = z.optional(z.string().check(z.maxLength(500)));
export const LinksOf = z
  .strictObject({ user: z.optional(User), video: z.optional(Video) })
  .check(z.refine((b) => (b.user === undefined) !== (b.video === undefined), "give exactly one of user or video"));
export const AuditFilter = {
  video: z.optional(Video),
  user: z.optional(User),
  link: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  cursor: z.optional(z.string().check(z.maxLength(256))),
  limit: pageLimit(MAX_BATCH, 100),
};

const CodeGrants = Grants(z.strictObject({ user: User, video: Video, expiresAt: z.optional(z.nullable(z.date())) }));
const CodeAudit = z.optional(z.strictObject({ ...AuditFilter, since: z.optional(z.date()) }));

/** A grant as the code API takes it; `expiresAt` null or absent: it does not expire. */
export interface GrantInput {
  user: string;
  video: string;
  expiresAt?: Date | null;
}

export interface AuditPage {
  events: Array<Omit<AuditRecord, "at"> & { at: string }>;
  /** Pass back as `cursor` for the next, older page; null on the last. */
  nextCursor: string | null;
  /** How far behind the requests the trail may be (docs/design.md › Audit trail). */
  freshness: {
    lastWrittenAt: string | null;
    lastBatchWaitedMs: number | null;
    /** The earliest event marked as sent that no written batch has followed yet; null when the consumer has caught up. */
    pendingSince: string | null;
    consumer: ConsumerState;
    waiting: number | null;
    oldestWaitingSince: string | null;
  };
}

export interface AuditQuery {
  video?: string;
  user?: string;
  /** A share link's id. */
  link?: string;
  since?: Date;
  cursor?: string;
  /** 1 to 1000, default 100. */
  limit?: number;
}

/** The app's backend's powers over the gateway. Inputs are checked as the admin API checks them: a bad one throws 400 `invalid-request` naming its field. */
export interface GatewayAdmin {
  /** Upserts grants (at most 1,000); extending one keeps the links made under it. */
  grant(grants: GrantInput[]): Promise<{ upserted: number }>;
  /** Deletes grants and revokes the links made under them. */
  revokeGrants(grants: Array<{ user: string; video: string }>): Promise<{ deleted: number; linksRevoked: number }>;
  /** Revokes one share link by its id, whoever made it: whether there is such a link, and whether this call revoked it. */
  revokeLink(id: string): Promise<{ found: boolean; revoked: boolean }>;
  /** Revokes every live link of one user, or of one video. */
  revokeLinks(of: { user: string } | { video: string }): Promise<{ revoked: number }>;
  /** The kill switch: nobody may download the video, and its links are revoked for good. */
  block(video: string, reason?: string): Promise<{ linksRevoked: number }>;
  unblock(video: string): Promise<{ wasBlocked: boolean }>;
  /** The audit trail, newest first. */
  audit(query?: AuditQuery): Promise<AuditPage>;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** What the actions need: a request's deps (the admin API), or the gateway with a clock (the code API). */
export type AdminDeps = Pick<Deps, "config" | "db" | "cache" | "now" | "events" | "audit" | "links">;

/** The actions for one request (the admin API) or one call of the code API: `d` carries the clock and the database session. */
export function gatewayAdmin(d: AdminDeps): GatewayAdmin {
  return {
    async grant(input) {
      const grants = parseInput(CodeGrants, input, "grants").map((g) => ({ user: g.user, video: g.video, expiresAt: g.expiresAt?.getTime() ?? null }));
      await putGrants(d, grants);
      return { upserted: grants.length };
    },

    async revokeGrants(input) {
      const { deleted, revoked } = await removeGrants(d, parseInput(GrantPairs, input, "grants"));
      await d.events.notify(...revoked.map((link) => linkRevoked(link, d.now, "grant-deleted")));
      return { deleted, linksRevoked: revoked.length };
    },

    async revokeLink(id) {
      const link = typeof id === "string" ? await d.links.forOwner(id) : null;
      const revoked = link !== null && (await d.links.revoke(link.id, d.now));
      if (revoked) await d.events.notify(linkRevoked(link, d.now, "admin"));
      return { found: link !== null, revoked };
    },

    async revokeLinks(of) {
      const revoked = await d.links.revokeAll(parseInput(LinksOf, of, "body"), d.now);
      await d.events.notify(...revoked.map((link) => linkRevoked(link, d.now, "admin")));
      return { revoked: revoked.length };
    },

    async block(video, reason) {
      const uid = parseInput(Video, video, "video");
      const why = parseInput(BlockReason, reason, "reason") ?? null;
      const revoked = await block(d, uid, why);
      await d.events.notify(
        appEvent("video.blocked", d.now, { video: uid, reason: why, linksRevoked: revoked.length }),
        ...revoked.map((link) => linkRevoked(link, d.now, "video-blocked")),
      );
      return { linksRevoked: revoked.length };
    },

    async unblock(video) {
      return { wasBlocked: await unblock(d, parseInput(Video, video, "video")) };
    },

    async audit(input) {
      const query = parseInput(CodeAudit, input, "query") ?? { limit: 100 };
      const key = decodeCursor(query.cursor, "number", "number");
      const page = await listAuditEvents(d.db, {
        video: query.video,
        user: query.user,
        link: query.link,
        since: query.since?.getTime(),
        after: key && { at: key[0], id: key[1] },
        limit: query.limit,
      });
      // Events reach the table through a queue: how long ago its consumer last wrote, how long the
      // oldest event of that batch had waited, and what still waits in the queue say how far
      // behind the requests the list may be.
      const [freshness, backlog] = await Promise.all([auditFreshness(d.db, d.now), d.audit.backlog()]);
      return {
        events: page.events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        nextCursor: page.next === null ? null : encodeCursor([page.next.at, page.next.id]),
        freshness: {
          lastWrittenAt: iso(freshness.writtenAt),
          lastBatchWaitedMs: freshness.waitedMs,
          pendingSince: iso(freshness.pendingSince),
          consumer: freshness.consumer,
          waiting: backlog?.waiting ?? null,
          oldestWaitingSince: iso(backlog?.oldestSentAt),
        },
      };
    },
  };
}
