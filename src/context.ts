// What each step needs, built once per request from per-isolate singletons.
import type { Context } from "hono";
import { getConfig, type Config } from "./config";
import type { Db } from "./db/types";
import { clientInfo, type ClientInfo } from "./http/client";
import { isolateCache, type MemoryCache } from "./memory-cache";
import { streamApiBudget } from "./stream/budget";
import { StreamClient } from "./stream/client";

export type AppEnv = { Bindings: Env };
export type AppContext = Context<AppEnv>;

export interface Deps {
  config: Config;
  /** A D1 session, so that reads may be answered by a replica near the user. */
  db: Db;
  cache: MemoryCache;
  stream: StreamClient;
  client: ClientInfo;
  now: number;
  waitUntil(promise: Promise<unknown>): void;
}

const clients = new WeakMap<Config, StreamClient>();

/** The Stream client of this isolate and config (also the cron's). */
export function streamClient(config: Config, env: Env): StreamClient {
  let client = clients.get(config);
  if (!client) {
    client = new StreamClient(config.stream, streamApiBudget(env.STREAM_BUDGET, config.stream.accountId, config.streamApiBudget));
    clients.set(config, client);
  }
  return client;
}

export function deps(c: AppContext): Deps {
  const config = getConfig(c.env);
  return {
    config,
    db: c.env.DB.withSession("first-unconstrained"),
    cache: isolateCache,
    stream: streamClient(config, c.env),
    client: clientInfo(c.req.raw),
    now: Date.now(),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  };
}
