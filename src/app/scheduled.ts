// The gateway's crons (config/wiring.ts; wrangler.toml [triggers]). Daily, retention: audit rows older than
// AUDIT_RETENTION_DAYS (and events whose delivery failed that long ago), share links expired for more than 30 days,
// expired ticket pins, and download states still pending that nobody asked about for a day are deleted. Every
// ten minutes, the re-check: PREPARE_DOWNLOADS downloads a webhook left unfinished are asked for
// again, since Stream documents no webhook redelivery; the catalogue forgets "no such video"
// answers past their window and records what one list call says of the account's videos. Both say so when the audit queue has no
// consumer. Any other cron is the host's: the gateway does nothing for it.
import type { Gateway } from "../gateway/gateway";
import { auditFreshness, deleteAuditBefore } from "../record/audit";
import { retryPreparations } from "../ensure/video-processed";
import { deleteStalePending } from "../ensure/download-state";
import { deleteFailuresBefore, nameLinksInFailures } from "../events/failures";
import { deleteExpiredPins } from "../mint/ticket-pins";
import { pruneCatalogue, syncCatalogue } from "../ensure/catalogue";
import { errorText } from "../problems";

/** Downloads re-checked per run: each costs a few Stream API calls. */
const RECHECK_LIMIT = 20;

/** Each move is two statements and two digests; a thousand a day empties any realistic backlog within days. */
const LEGACY_MOVES_PER_RUN = 1000;

const DAY_MS = 86_400_000;
/** Expired links stay this long, so their landing page can still say "expired" rather than 404. */
const EXPIRED_LINK_GRACE_DAYS = 30;

/** Runs the gateway's cron; false for a cron that is not the gateway's (nothing was done). */
export async function scheduled(controller: ScheduledController, gateway: Gateway, ctx: ExecutionContext): Promise<boolean> {
  const { config, database: db, wiring } = gateway;
  if (controller.cron !== wiring.crons.recheck && controller.cron !== wiring.crons.retention) return false;
  if ((await auditFreshness(db, Date.now())).consumer === "misconfigured") {
    console.error(`misconfigured: audit events wait unwritten in ${wiring.queues.audit}: the Worker must export the gateway's queue handler (docs/operations.md › Wiring)`);
  }
  if (controller.cron === wiring.crons.recheck) {
    const deps = { ...gateway, db, now: Date.now(), waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
    const { retried, failed } = await retryPreparations(deps, RECHECK_LIMIT);
    await pruneCatalogue(db, deps.now);
    try {
      const written = await syncCatalogue(db, gateway.stream, deps.now, config.readyTtlSeconds * 1000);
      if (written > 0) console.log(`re-check (${controller.cron}): the catalogue took ${written} new or changed videos from Stream's list`);
    } catch (error) {
      console.error(`re-check (${controller.cron}): the catalogue's list sync failed; the next run tries again`, errorText(error));
    }
    if (retried > 0) console.log(`re-check (${controller.cron}): ${retried} unfinished downloads asked for again, ${failed} still failing`);
    return true;
  }
  // scheduledTime, not Date.now(): a delayed or retried run deletes what the schedule meant to.
  const now = controller.scheduledTime;
  const audit = await deleteAuditBefore(db, now - config.auditRetentionDays * DAY_MS);
  // Links from before public ids that nobody used since the upgrade move here too, a batch a day.
  const { deleted: links, moved } = await gateway.links.retain(now - EXPIRED_LINK_GRACE_DAYS * DAY_MS, now, LEGACY_MOVES_PER_RUN);
  const pins = await deleteExpiredPins(db, now);
  const renamed = await nameLinksInFailures(db, LEGACY_MOVES_PER_RUN);
  const failures = await deleteFailuresBefore(db, now - config.auditRetentionDays * DAY_MS);
  const states = await deleteStalePending(db, now - DAY_MS);
  console.log(
    `retention (${controller.cron}): deleted ${audit} audit rows, ${links} share links, ${states} stale download states, ${pins} expired ticket pins, ${failures} failed events; moved ${moved} older share links (and ${renamed} kept failed events) to public ids`,
  );
  return true;
}
