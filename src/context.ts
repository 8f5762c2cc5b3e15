// What each step needs: the gateway built once per configuration (gateway.ts), and what belongs
// to this request.
import type { Context } from "hono";
import type { Db } from "./db/types";
import { gatewayOf, type Gateway } from "./gateway";
import { clientInfo, type ClientInfo } from "./http/client";
import { mountPath } from "./http/mount";

export type AppEnv = { Bindings: Env };
export type AppContext = Context<AppEnv>;

export interface Deps extends Gateway {
  /** A D1 session, so that reads may be answered by a replica near the user. */
  db: Db;
  /** The gateway's own URL as this request reached it, mount path included, without a trailing slash. */
  base: string;
  /** The mount path alone ("" at the root): for links within the gateway's own pages. */
  mount: string;
  client: ClientInfo;
  now: number;
  waitUntil(promise: Promise<unknown>): void;
}

export function deps(c: AppContext): Deps {
  const mount = mountPath(c);
  return {
    ...gatewayOf(c.env),
    db: c.env.DB.withSession("first-unconstrained"),
    base: `${new URL(c.req.url).origin}${mount}`,
    mount,
    client: clientInfo(c.req.raw),
    now: Date.now(),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  };
}
