// What the request path needs that is worth building once per configuration, built by one
// factory: the validated Config, the Stream client (with its own 429 pause and the API budget),
// the Stream signing key, the grant tickets' key, the app tokens' verifier, the admin gate, the
// webhook key and the memory cache. Keys are imported on first use, so a key that cannot be
// imported is the problem of the request that needs it, named as a `misconfigured` setting.
import { createAdminGate, type AdminGate } from "./auth/admin";
import { createVerifier, type AppTokenVerifier } from "./auth/identify";
import { parseConfig, type Config } from "./config";
import type { RateLimiters } from "./limits";
import { MemoryCache } from "./memory-cache";
import { Problem } from "./problems";
import { streamApiBudget } from "./stream/budget";
import { StreamClient } from "./stream/client";
import { createTicketKey, type TicketKey } from "./stream/ticket";
import { createSigner, type Signer } from "./stream/token";
import { createWebhookKey, type WebhookKey } from "./webhooks/signature";

export interface Gateway {
  config: Config;
  stream: StreamClient;
  signer: Signer;
  ticketKey: TicketKey;
  verifier: AppTokenVerifier;
  admin: AdminGate;
  limiters: RateLimiters;
  /** Null while STREAM_WEBHOOK_SECRET is not set: the receiver is then disabled. */
  webhookKey: WebhookKey | null;
  cache: MemoryCache;
}

export function buildGateway(
  config: Config,
  bindings: Pick<Env, "STREAM_BUDGET" | "USER_RATE_LIMITER" | "IP_RATE_LIMITER" | "LINK_PASSWORD_LIMITER">,
): Gateway {
  const budget = streamApiBudget(bindings.STREAM_BUDGET, config.stream.accountId, config.streamApiBudget);
  return {
    config,
    stream: new StreamClient(config.stream, budget),
    signer: createSigner(config.stream),
    ticketKey: createTicketKey(config.stream),
    verifier: createVerifier(config.auth),
    admin: createAdminGate(config.adminTokens),
    limiters: { user: bindings.USER_RATE_LIMITER, ip: bindings.IP_RATE_LIMITER, password: bindings.LINK_PASSWORD_LIMITER },
    webhookKey: config.webhookSecret === null ? null : createWebhookKey(config.webhookSecret),
    cache: new MemoryCache(),
  };
}

// Workers hand the same Env object to every request of an isolate: one gateway per Env.
const built = new WeakMap<object, Gateway | Problem>();

/** The gateway of this Env: validated and built on first use, then reused (also when it failed). */
export function gatewayOf(env: Env): Gateway {
  let gateway = built.get(env);
  if (gateway === undefined) {
    try {
      gateway = buildGateway(parseConfig(env), env);
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      gateway = error;
    }
    built.set(env, gateway);
  }
  if (gateway instanceof Problem) throw gateway;
  return gateway;
}
