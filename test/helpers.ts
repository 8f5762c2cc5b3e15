// Test helpers for the gateway: app tokens signed like the app would, and requests through SELF.
import { SELF, createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { SignJWT, type JWTPayload } from "jose";
import { expect } from "vitest";
import worker from "../src/dev";
import type { QueueMessage } from "../src/gateway/gateway";
import { seedVideo } from "./emulator/helpers";

export const GATEWAY = "https://gateway.test";
export const ADMIN_TOKEN = "test-admin-token-one";

/** An app token as the app's backend would issue it (HS256 with the test secret). */
export async function appToken(sub: string, claims: JWTPayload = {}, ttlSeconds = 600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(env.AUTH_HS256_SECRET));
}

/** A random user id, so that per-user rate limits and caches never leak between tests. */
export const randomUser = () => `user-${crypto.randomUUID()}`;

/**
 * A request's headers, with the bearer token, asking for JSON unless told otherwise, as API clients
 * and the button helper do: while Stream prepares a file, that is the 202 with the progress (a
 * client that asks for neither JSON nor HTML gets 503, test/routes/preparing.test.ts).
 */
function clientHeaders(init: HeadersInit | undefined, token: string | undefined): Headers {
  const headers = new Headers(init);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  return headers;
}

export function gateway(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const { token, ...rest } = init;
  const headers = clientHeaders(rest.headers, token);
  return SELF.fetch(`${GATEWAY}${path}`, { redirect: "manual", ...rest, headers });
}

export function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return gateway(path, {
    method,
    token: ADMIN_TOKEN,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The gateway's own test bindings with some settings changed: a new object, so a Config of its own. */
export function envWith(overrides: Record<string, string>): Env {
  return { ...env, ...overrides } as Env;
}

export interface WorkerCall extends RequestInit {
  token?: string;
  /** What Cloudflare's edge would put in `request.cf` (e.g. `{ country: "GB" }`). */
  cf?: Record<string, unknown>;
}

/**
 * Calls the gateway in-process with the given env (see envWith), then waits for its
 * `ctx.waitUntil` work (audit rows) before returning the response.
 */
export async function callWorker(testEnv: Env, path: string, init: WorkerCall = {}): Promise<Response> {
  const { token, cf, ...rest } = init;
  const headers = clientHeaders(rest.headers, token);
  const request = new Request(`${GATEWAY}${path}`, { redirect: "manual", ...rest, headers, cf } as RequestInit);
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

/** Checks the RFC 9457 shape every error shares and returns the body for further checks. */
export async function expectProblem(res: Response, status: number, type: string, instance?: string): Promise<ProblemBody> {
  const text = await res.text();
  expect({ status: res.status, contentType: res.headers.get("content-type"), text }).toMatchObject({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
  });
  const body = JSON.parse(text) as ProblemBody;
  expect(body).toMatchObject({
    type,
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance: instance ?? expect.stringMatching(/^\//),
  });
  return body;
}

/** A download as a user with this JWT claim would start it (`videos: "*"` unless told otherwise). */
export async function download(uid: string, init: RequestInit & { token?: string; query?: string } = {}): Promise<Response> {
  const { query, ...rest } = init;
  const token = rest.token ?? (await appToken(randomUser(), { videos: "*" }));
  return gateway(`/v1/videos/${uid}/download${query ?? ""}`, { ...rest, token });
}

/** What `POST /v1/videos/:uid/share-links` answers with 201, and the secret its URL carries. */
export interface CreatedLink {
  /** The public id. */
  id: string;
  url: string;
  expiresAt: string;
  secret: string;
}

/**
 * Creates a share link as `token`'s user; fails the test unless the gateway answers 201. Made for
 * Stream's URL unless `body` says otherwise: most tests read the token a grant hands out; those of
 * the gateway's own delivery (the default for apps) ask for it.
 */
export async function createShareLink(uid: string, token: string, body: Record<string, unknown> = {}): Promise<CreatedLink> {
  const res = await gateway(`/v1/videos/${uid}/share-links`, {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "default", expiresIn: 3600, delivery: "redirect", ...body }),
  });
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: 201 });
  const created = JSON.parse(text) as Omit<CreatedLink, "secret">;
  return { ...created, secret: new URL(created.url).pathname.split("/").pop() ?? "" };
}

export interface ShareLinkRow {
  uses: number;
  revoked_at: number | null;
  password_hash: string | null;
  countries: string | null;
  expires_at: number;
}

/**
 * The link's D1 row (by its public id or its secret), read behind the gateway's back once the
 * audit queue has drained: its uses are the index's, counted from the audit rows.
 */
export async function shareLinkRow(id: string): Promise<ShareLinkRow> {
  await drainAudit();
  const row = await env.DB.prepare("SELECT uses, revoked_at, password_hash, countries, expires_at FROM share_links WHERE public_id = ?1 OR secret = ?1")
    .bind(id)
    .first<ShareLinkRow>();
  if (row === null) throw new Error(`no share_links row ${id}`);
  return row;
}

/**
 * A stream-mode grant: checks that the gateway answered 303 to its own /d/<ticket> URL and
 * returns that path, to fetch (and resume) with `gateway()`.
 */
export function ticketPath(res: Response): string {
  expect(res.status).toBe(303);
  const target = new URL(res.headers.get("location") ?? "", GATEWAY);
  expect(target.origin).toBe(GATEWAY);
  expect(target.pathname).toMatch(/^\/d\/[\w-]+\.[\w-]+\.[\w-]+$/);
  return target.pathname;
}

/** A request to a host app that mounts the gateway (mount.test.ts, library.test.ts), with its waitUntil work awaited. */
export async function callHost(host: { fetch: (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response> }, url: string, init: RequestInit = {}, testEnv: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await host.fetch(new Request(url, { redirect: "manual", ...init }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A random video UID (32 lowercase hex characters) that no video has. */
export const randomUid = () => crypto.randomUUID().replace(/-/g, "");

/** A fresh video that requires signed URLs and whose MP4 download is ready at the emulator. */
export async function readyVideo(): Promise<string> {
  return (await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } })).uid;
}

/**
 * Waits until every audit event sent so far is written: a marker sent now comes after them
 * (Miniflare's queue delivers in order, one batch at a time), so once the consumer has written
 * the marker it has written theirs. The marker's row is then deleted.
 */
export async function drainAudit(): Promise<void> {
  const id = `drain-${crypto.randomUUID()}`;
  await env.AUDIT_QUEUE.send(
    { kind: "audit", event: { id, at: 0, user: null, link: null, video: "drain-marker", type: "default", mode: "redirect", country: null, network: null, outcome: "granted" } },
    { contentType: "json" },
  );
  const deadline = Date.now() + 20_000;
  while ((await env.DB.prepare("DELETE FROM audit_events WHERE event_id = ?1").bind(id).run()).meta.changes === 0) {
    if (Date.now() > deadline) throw new Error("the audit queue did not drain within 20 s");
    await scheduler.wait(50);
  }
}

/** Audit rows matching `where` (bound with `values`) once the queue has drained. */
export async function auditCount(where: string, ...values: unknown[]): Promise<number> {
  await drainAudit();
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM audit_events WHERE ${where}`).bind(...values).first<{ n: number }>();
  return row?.n ?? 0;
}

/** A share link's audit rows once the queue has drained. */
export const linkAuditCount = (link: string) => auditCount(`link_id = ${linkByIdOrSecret("?1")}`, link);

/** SQL for a link's public id, given (as `param`) its public id or its secret. */
export const linkByIdOrSecret = (param: string) => `(SELECT public_id FROM share_links WHERE public_id = ${param} OR secret = ${param})`;

/** The secret a created link's URL carries, from the creation's JSON answer. */
export const linkSecret = (created: unknown): string => new URL((created as { url: string }).url).pathname.split("/").pop() ?? "";

/** Downloads `user` has taken from today's DAILY_DOWNLOAD_QUOTA (their UserQuota object). */
export async function quotaUsed(user: string): Promise<number> {
  const unlimited = 1_000_000_000;
  const stub = env.USER_QUOTA.get(env.USER_QUOTA.idFromName(user));
  return unlimited - (await stub.left(new Date().toISOString().slice(0, 10), unlimited));
}

/** The gateway's queue, with a copy of every message given to it kept in `sent` (and still sent). */
export function keptQueue(sent: QueueMessage[]): Queue<QueueMessage> {
  return new Proxy(env.AUDIT_QUEUE as Queue<QueueMessage>, {
    get(real, prop) {
      if (prop === "send") return (body: QueueMessage, options?: QueueSendOptions) => (sent.push(body), real.send(body, options));
      if (prop === "sendBatch") {
        return (batch: Iterable<MessageSendRequest<QueueMessage>>, options?: QueueSendBatchOptions) => {
          const list = [...batch];
          sent.push(...list.map((m) => m.body));
          return real.sendBatch(list, options);
        };
      }
      const value: unknown = Reflect.get(real, prop, real);
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
}

/**
 * Waits, when needed, until a burst that starts now stays inside one of the rate limiters'
 * windows: Miniflare aligns them to the wall-clock minute, and a burst split by a rollover
 * would be counted in two windows.
 */
export async function clearOfLimiterRollover(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 100));
}

/** The timeout of a test that waits with clearOfLimiterRollover (up to 10 s) and then sends its burst. */
export const LIMITER_BURST_TIMEOUT_MS = 30_000;

/**
 * Clears the Stream API budget and closes Stream's breaker (src/stream/budget-object.ts): both are
 * account-wide, so a test that spent the budget or made Stream fail would leave them for the next.
 */
export async function resetStreamBudget(): Promise<void> {
  const budget = env.STREAM_BUDGET.get(env.STREAM_BUDGET.idFromName(env.STREAM_ACCOUNT_ID));
  await runInDurableObject(budget, (_object, state) => {
    state.storage.sql.exec("DELETE FROM spent");
    state.storage.kv.delete("breaker");
    state.storage.kv.delete("announced");
  });
}
