// Entitlement asked of the app's backend (ENTITLEMENT_URL), for a standalone gateway whose app
// keeps its own purchases: one signed POST per user and video, its answer cached briefly. It
// fails closed: whatever is not a clear answer (an outage, a timeout, a 5xx, an unreadable body)
// refuses the download with a retryable 503, never lets it through.
import { z } from "zod";
import type { AppUser } from "../identify/app-token";
import type { EntitlementConfig } from "../config";
import { createStandardWebhookSigner } from "../http/standard-webhooks";
import type { MemoryCache } from "../memory-cache";
import { retryLater } from "../problems";
import type { EntitlementSource } from "./entitle";

type CallbackConfig = Extract<EntitlementConfig, { kind: "callback" }>;

/** How the request reaches the backend: `fetch` over the Internet, or a service binding's. */
export type Send = (request: Request) => Promise<Response>;

export type EntitlementCallback = (user: AppUser, video: string, now: number) => Promise<EntitlementSource | null>;

const TIMEOUT_MS = 3000;
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
  return async (user, video, now) => {
    const key = callbackKey(user.id, video);
    const cached = cache.get<boolean>(key, now);
    if (cached !== undefined) return cached ? "grant" : null;
    const body = JSON.stringify({ type: "entitlement.check", user: user.id, video });
    const headers = { "content-type": "application/json", ...(await sign(body, now)) };
    const entitled = await ask(send, new Request(config.url, { method: "POST", headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) }));
    const seconds = entitled ? config.cacheSeconds : Math.min(config.cacheSeconds, REFUSAL_CACHE_SECONDS);
    cache.set(key, entitled, seconds * 1000, now);
    // Held by the app and revocable: share links made under it are re-checked when used.
    return entitled ? "grant" : null;
  };
}

async function ask(send: Send, request: Request): Promise<boolean> {
  const where = new URL(request.url).origin;
  try {
    const res = await send(request);
    const text = await res.text();
    if (res.status === 200) {
      const answer = Answer.safeParse(parseJson(text));
      if (answer.success) return answer.data.entitled;
    }
    // Logged without the body (it is the app's, and may be large); the status says enough.
    console.error(`ENTITLEMENT_URL (${where}) answered ${res.status} without {"entitled": true|false}`);
  } catch (error) {
    console.error(`ENTITLEMENT_URL (${where}) could not be reached:`, error instanceof Error ? error.message : String(error));
  }
  throw retryLater("upstream-unavailable", "The app could not say whether you may download this video.", RETRY_SECONDS);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
