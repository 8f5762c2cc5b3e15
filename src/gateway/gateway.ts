// What the request path needs that is worth building once per configuration, built by one
// factory: the validated Config, the Stream client (REST or the Workers binding, with its own
// 429 pause and the API budget), the daily quota and the audit trail's queue, the Stream signing key, the grant tickets' key, the app tokens' verifier, the admin gate, the
// webhook key and the memory cache. Keys are imported on first use, so a key that cannot be
// imported is the problem of the request that needs it, named as a `misconfigured` setting.
import type { Context } from "hono";
import { createAdminGate, type AdminGate } from "../identify/admin";
import type { AppUser } from "../identify/app-token";
import type { Config } from "../config/config";
import type { Entitle, StillEntitled } from "../entitle/entitle";
import type { RateLimiters } from "../limits/rate-limits";
import type { MemoryCache } from "../storage/memory-cache";
import { misconfigured } from "../problems";
import { AUDIT_QUEUE_SHARDS, auditSink, type AuditMessage, type AuditSink } from "../record/audit-queue";
import { eventPoster, type EventPoster } from "../events/delivery";
import { appEvent, eventSink, type EventMessage, type EventSink } from "../events/events";
import { dailyQuota, type DailyQuota } from "../record/quota";
import type { UserQuota } from "../record/quota-object";
import { StreamBindingClient } from "../stream/binding-client";
import { streamApiBudget } from "../stream/budget";
import type { StreamApiBudget } from "../stream/budget-object";
import { CallGate, type Payer } from "../stream/call-gate";
import { StreamClient, type StreamApi } from "../stream/client";
import { createTicketKey, type TicketKey } from "../mint/ticket";
import { createSigner, type Signer } from "../mint/token";
import { createWebhookKey, type WebhookKey } from "../identify/stream-webhook";
import type { Wiring } from "../config/wiring";
import type { ShareLinkObject } from "../share-links/link-object";
import { shareLinkStore, type ShareLinkStore } from "../share-links/link-store";

/** What the gateway's queue carries: audit events, and the app's events (app/queue.ts consumes both). */
export type QueueMessage = AuditMessage | EventMessage;

/** The bindings the gateway needs, passed in (the reference Worker passes its Env). */
export interface GatewayBindings {
  DB: D1Database;
  USER_RATE_LIMITER: RateLimit;
  IP_RATE_LIMITER: RateLimit;
  LINK_PASSWORD_LIMITER: RateLimit;
  STREAM_BUDGET: DurableObjectNamespace<StreamApiBudget>;
  /** DAILY_DOWNLOAD_QUOTA's counters, one UserQuota object per user: needed only with a quota. */
  USER_QUOTA?: DurableObjectNamespace<UserQuota>;
  /** Each share link's live state: one ShareLinkObject per link. */
  SHARE_LINKS: DurableObjectNamespace<ShareLinkObject>;
  /** The audit trail's queue, which carries the app's events too; the Worker consumes it (and its dead-letter queue) with `app.queue`. */
  AUDIT_QUEUE: Queue<QueueMessage>;
  /** More audit queues, named after the first with -2, -3, -4: each adds 5,000 downloads a second (docs/operations.md › Past 5,000 downloads a second). */
  AUDIT_QUEUE_2?: Queue<QueueMessage>;
  AUDIT_QUEUE_3?: Queue<QueueMessage>;
  AUDIT_QUEUE_4?: Queue<QueueMessage>;
  /** A service binding to the app's backend: ENTITLEMENT_URL is then asked through it, not over the Internet. */
  ENTITLEMENT_SERVICE?: Fetcher;
  /** A service binding to the app's backend: EVENTS_URL is then POSTed through it, not over the Internet. */
  EVENTS_SERVICE?: Fetcher;
}

/** Steps 1 and 2 as the routes call them: the default hooks, or the app's held to their answers (app/hooks.ts). */
export interface Hooks {
  /** The user, or a thrown 401. */
  identify: (c: Context, options: { allowCookie: boolean }) => Promise<AppUser>;
  entitle: Entitle<Context>;
  stillEntitled: StillEntitled<Context>;
}

export interface Gateway extends Hooks {
  config: Config;
  /** The primary database; requests read through a session of it (context.ts). */
  database: D1Database;
  /** Stream, for the gateway's own work (webhooks, crons): charged to the account's budget only. */
  stream: StreamApi;
  /** Stream, for a request: charged to its user's and network's shares as well (budget.ts). */
  streamFor(payer: Payer): StreamApi;
  signer: Signer;
  ticketKey: TicketKey;
  admin: AdminGate;
  limiters: RateLimiters;
  /** Null without a daily quota. */
  quota: DailyQuota | null;
  audit: AuditSink;
  links: ShareLinkStore;
  /** The app's events, handed to the queue (nothing is sent without EVENTS_URL). */
  events: EventSink;
  /** Delivers them, in the queue's consumer; null without EVENTS_URL. */
  eventPoster: EventPoster | null;
  /** Null while STREAM_WEBHOOK_SECRET is not set: the receiver is then disabled. */
  webhookKey: WebhookKey | null;
  cache: MemoryCache;
  /** Which crons and queues are the gateway's. */
  wiring: Wiring;
}

/** What the gateway is built from besides the config and bindings. */
interface Parts {
  stream: StreamBinding | undefined;
  cache: MemoryCache;
  wiring: Wiring;
  /** Whether the Worker exports the gateway's queue handler (it was built with `downloads.worker(app)`). */
  consumerExported: () => boolean;
}

export function buildGateway(config: Config, bindings: GatewayBindings, { stream: streamBinding, cache, wiring, consumerExported }: Parts, hooks: Hooks): Gateway {
  const events = eventSink(bindings.AUDIT_QUEUE, config.events !== null);
  const spent = (seconds: number) => events.notify(appEvent("stream.budget_exhausted", Date.now(), { limit: config.streamApiBudget.limit, retryAfter: seconds }));
  const gate = new CallGate(streamApiBudget(bindings.STREAM_BUDGET, config, spent));
  return {
    ...hooks,
    config,
    database: bindings.DB,
    stream: streamApi(config, streamBinding, gate),
    streamFor: (payer) => streamApi(config, streamBinding, gate.charging(payer)),
    quota: quotaOf(config, bindings),
    audit: auditSink([bindings.AUDIT_QUEUE, ...AUDIT_QUEUE_SHARDS.flatMap((name) => bindings[name] ?? [])], bindings.DB, consumerExported),
    links: shareLinkStore(bindings.SHARE_LINKS, bindings.DB, config.shareLinkLeak.windowSeconds * 1000),
    events,
    eventPoster: config.events === null ? null : eventPoster(config.events, (request) => (bindings.EVENTS_SERVICE ?? globalThis).fetch(request)),
    signer: createSigner(config.stream),
    ticketKey: createTicketKey(config.stream),
    admin: createAdminGate(config.adminTokens),
    limiters: { user: bindings.USER_RATE_LIMITER, ip: bindings.IP_RATE_LIMITER, password: bindings.LINK_PASSWORD_LIMITER },
    webhookKey: config.webhookSecret === null ? null : createWebhookKey(config.webhookSecret),
    cache,
    wiring,
  };
}

function streamApi(config: Config, binding: StreamBinding | undefined, gate: CallGate): StreamApi {
  const { api, accountId, timeoutMs } = config.stream;
  if (api.kind === "rest") return new StreamClient({ ...api, accountId, timeoutMs }, gate);
  if (binding === undefined) throw new Error("unreachable: the binding kind of Stream API needs stream.binding");
  return new StreamBindingClient(binding, gate);
}

function quotaOf(config: Config, bindings: GatewayBindings): DailyQuota | null {
  if (config.dailyDownloadQuota === null) return null;
  if (bindings.USER_QUOTA === undefined) throw misconfigured("USER_QUOTA", "DAILY_DOWNLOAD_QUOTA needs the binding USER_QUOTA");
  return dailyQuota(bindings.USER_QUOTA, config.dailyDownloadQuota);
}
