// CORS for the web app origins of CORS_ORIGINS only (exact match). Every CORS header, credentials
// included, goes only to those origins; any other origin gets a response browsers will not share.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../gateway/context";

const ALLOW_METHODS = "GET, POST, PUT, DELETE";
const ALLOW_HEADERS = "Authorization, Content-Type";
const EXPOSE_HEADERS = "Retry-After, X-Downloads-Remaining, Content-Disposition";
const MAX_AGE_SECONDS = "600";

export const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header("origin");
  const allowed = origin !== undefined && c.get("gateway").config.corsOrigins.includes(origin);
  const preflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
  if (preflight) {
    const headers: Record<string, string> = { vary: "Origin" };
    if (allowed) {
      Object.assign(headers, {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": ALLOW_METHODS,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": MAX_AGE_SECONDS,
      });
    }
    return c.body(null, 204, headers);
  }
  await next();
  c.res.headers.append("vary", "Origin");
  if (allowed) {
    c.res.headers.set("access-control-allow-origin", origin);
    c.res.headers.set("access-control-allow-credentials", "true");
    c.res.headers.set("access-control-expose-headers", EXPOSE_HEADERS);
  }
};
