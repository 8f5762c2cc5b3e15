// Entitlement asked of the app's backend (ENTITLEMENT_URL), for a standalone gateway whose app
// keeps its own purchases: one signed POST per user and video, its answer cached briefly. It
// fails closed: whatever is not a clear answer (an outage, a timeout, a 5xx, an unreadable body)
// refuses the download with a retryable 503, never lets it through.
import * as z from "../input/zod";
import type { AppUser } from "../identify/app-token";
import type { EntitlementConfig } from "../config/config";
import { createStandardWebhookSigner, type StandardWebhookSigner } from "../http/standard-webhooks";
import { readBody, tryJson } from "../input/validate";
import type { MemoryCache } from "../storage/memory-cache";
import { retryLater, errorText } from "../problems";
import type { EntitlementSource } from "./entitle";

type CallbackConfig = Extract<EntitlementConfig, { kind: "callback" }>;

/** How the request reaches the backend: `fetch` over the Internet, or a service binding's. */
export type Send = (request: Request) => Promise<Response>;

export type EntitlementCallback = (user: AppUser, video: string, now: number) => Promise<EntitlementSource | null>;

const TIMEOUT_MS = 3000;
/** `{"entitled": false}` is 19 bytes: anything much longer is not an answer, and is not read further. */
const MAX_ANSWER_BYTES = 1024;
/** What clients are told to wait when the backend could not answer. */
const RETRY_SECONDS = 5;
/**
 * A refusal is kept shorter than an allowance: a user who has just bought the video retries at
 * once and must not wait out the cache.
 */
const REFUSAL_CACHE_SECONDS = 5;

const Answer = z.object({ entitled: z.boolean() });

export const callbackKey = (user: string, video: string) => `entitled:${user}:${video}`;

export function createEntitlementCallback(config: CallbackConfig, send: Send, cache: MemoryCache): EntitlementCallback {
  const sign = createStandardWebhookSigner(config.secret);
  // One question per user and video at a time, however many requests (a crowd on one share
  // link) need its answer.
  const asking = new Map<string, Promise<boolean>>();
  return async (user, video, now) => {
    const key = callbackKey(user.id, video);
    const cached = cache.get<boolean | "unavailable">(key, now);
    if (cached === "unavailable") throw unavailable();
    if (cached !== undefined) return cached ? "grant" : null;
    let answer = asking.get(key);
    if (answer === undefined) {
      answer = askBackend(config, send, sign, user.id, video, now).finally(() => asking.delete(key));
      asking.set(key, answer);
    }
    let entitled: boolean;
    try {
      entitled = await answer;
    } catch (error) {
      // Fails closed, and for a moment stops asking a backend that is down.
      cache.set(key, "unavailable", RETRY_SECONDS * 1000, now);
      throw error;
    }
    const seconds = entitled ? config.cacheSeconds : Math.min(config.cacheSeconds, REFUSAL_CACHE_SECONDS);
    cache.set(key, entitled, seconds * 1000, now);
    // Held by the app and revocable: share links made under it are re-checked when used.
    return entitled ? "grant" : null;
  };
}

const unavailable = () => retryLater("upstream-unavailable", "The app could not say whether you may download this video.", RETRY_SECONDS);

async function askBackend(config: CallbackConfig, send: Send, sign: StandardWebhookSigner, user: string, video: string, now: number): Promise<boolean> {
  const body = JSON.stringify({ type: "entitlement.check", user, video });
  const headers = { "content-type": "application/json", ...(await sign(body, now)) };
  // A redirect is not an answer: followed, it would carry the signed question elsewhere and take
  // whatever that host says.
  const request = new Request(config.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
  const where = config.url.origin;
  try {
    const res = await send(request);
    const text = new TextDecoder().decode(await readBody(res, MAX_ANSWER_BYTES));
    if (res.status === 200) {
      const answer = Answer.safeParse(tryJson(text));
      if (answer.success) return answer.data.entitled;
    }
    // Logged without the body (it is the app's); the status says enough.
    console.error(`ENTITLEMENT_URL (${where}) answered ${res.status} without {"entitled": true|false}`);
  } catch (error) {
    console.error(`ENTITLEMENT_URL (${where}) could not be reached or answered too much:`, errorText(error));
  }
  throw unavailable();
}

