// What each step needs: the gateway built once per configuration (gateway.ts, set on the context
// by library.ts), and what belongs to this request.
import type { Context } from "hono";
import type { Db } from "../storage/d1";
import type { Gateway } from "./gateway";
import { clientInfo, type ClientInfo } from "../http/client";
import { mountPath } from "../http/mount";

/** The gateway's routers: they read everything from the gateway on the context, nothing from `env`. */
export type AppEnv = { Variables: { gateway: Gateway } };
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

/** The request's deps with its Stream calls charged to `user` (null: a share link's visitor) and the asking network. */
export function chargedTo(d: Deps, user: string | null): Deps {
  return { ...d, stream: d.streamFor({ user, network: d.client.network }) };
}

// One Deps per request: the routes and the default hooks (library.ts) share its D1 session and clock.
const perRequest = new WeakMap<object, Deps>();

export function deps<E extends AppEnv>(c: Context<E>): Deps {
  let built = perRequest.get(c);
  if (built === undefined) {
    built = build(c);
    perRequest.set(c, built);
  }
  return built;
}

function build<E extends AppEnv>(c: Context<E>): Deps {
  const gateway = c.get("gateway");
  const mount = mountPath(c);
  return {
    ...gateway,
    db: gateway.database.withSession("first-unconstrained"),
    base: `${new URL(c.req.url).origin}${mount}`,
    mount,
    client: clientInfo(c.req.raw),
    now: Date.now(),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  };
}
