// The API as OpenAPI 3.1, generated from the routes themselves: each route carries its
// description (`documented(…)`, a pass-through middleware) next to its handler, with its
// request schemas being the very zod schemas it validates input with. The document walks the
// app's routes, so a route without a description, or a description without a route, cannot be.
import type { Hono, MiddlewareHandler } from "hono";
import { version } from "../../package.json";
import * as z from "../input/zod";
import { DOWNLOAD_TYPES } from "../config/config";
import { PROBLEM_STATUS, type ProblemType } from "../problems";
import { DELIVERIES } from "../deliver/modes";

type JsonSchema = Record<string, unknown>;

export interface Operation {
  summary: string;
  security: JsonSchema[];
  parameters?: JsonSchema[];
  requestBody?: JsonSchema;
  responses: Record<string, JsonSchema>;
}

const OPERATION = Symbol("openapi operation");
type Documented = MiddlewareHandler & { [OPERATION]: () => Operation };

/**
 * A route's description, as the first handler of its definition: `router.get(path,
 * documented(() => ({…})), handler)`. Described lazily: its schemas become JSON Schema only when
 * the document is asked for, not when an isolate starts.
 */
export function documented(operation: () => Operation): MiddlewareHandler {
  const passThrough = (async (_c, next) => {
    await next();
  }) as Documented;
  passThrough[OPERATION] = operation;
  return passThrough;
}

export function schema(type: z.ZodMiniType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(type, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** Each property of a query object schema becomes one `in: query` parameter. */
export function queryParameters(type: z.ZodMiniObject): JsonSchema[] {
  const object = schema(type) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: object.required?.includes(name) ?? false,
    schema: property,
  }));
}

export const pathParameter = (name: string, description: string, pattern?: string): JsonSchema => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", ...(pattern ? { pattern } : {}) },
});
export const UID = pathParameter("uid", "Stream video UID", "^[0-9a-f]{32}$");
export const LINK_ID = pathParameter("id", "The share link's public id (an app's kept secret is accepted too)");
export const LINK_SECRET = pathParameter("id", "The secret a share link's URL carries: the capability");

export const json = (s: JsonSchema) => ({ "application/json": { schema: s } });
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const body = (type: z.ZodMiniType, required = true) => ({ required, content: json(schema(type)) });
export const ok = (description: string, s?: JsonSchema) => ({ description, ...(s ? { content: json(s) } : {}) });

/** The problem types a route can answer with, as `application/problem+json` responses by status. */
export function problems(...types: ProblemType[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, string[]>();
  for (const type of [...types, "internal" as const]) {
    const status = PROBLEM_STATUS[type];
    byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, slugs]) => [
      String(status),
      { description: slugs.join(", "), content: { "application/problem+json": { schema: ref("Problem") } } },
    ]),
  );
}

export const PREPARING = {
  description:
    "Stream is preparing the file; retry after `Retry-After` seconds. Browsers get a progress page; clients that ask for neither JSON nor HTML get 503 download-preparing instead.",
  headers: { "Retry-After": { schema: { type: "integer" } } },
  content: json(ref("Preparing")),
};
/** The answers of the delivery modes, each as its module documents it; modes that answer alike share their status's entry. */
export const DELIVERED = Object.fromEntries(
  [...Map.groupBy(Object.values(DELIVERIES), ({ documented }) => documented.status)].map(([status, modes]) => [
    status,
    { description: modes.map(({ documented }) => documented.description).join(" Or: "), headers: { Location: { schema: { type: "string", format: "uri" } } } },
  ]),
);
export const userAuth = [{ appToken: [] }, { appCookie: [] }];
export const bearerOnly = [{ appToken: [] }];
export const adminOnly = [{ adminToken: [] }];
export const PUBLIC: JsonSchema[] = [];

/** What the document says of how callers are identified, which depends on the configuration. */
export interface DocumentedAuth {
  /** The app's JWTs (AUTH_*), or the host app's own identify hook. */
  users: "token" | "hook";
  /** The cookie the token may ride in (AUTH_COOKIE_NAME), if any. */
  cookieName: string | null;
  /** Whether the admin API is on (ADMIN_API_TOKEN): off, its routes are not documented. */
  admin: boolean;
}

function securitySchemes(auth: DocumentedAuth): JsonSchema {
  const hook = auth.users === "hook";
  return {
    appToken: hook
      ? { type: "http", scheme: "bearer", description: "Whatever the host app's identify hook accepts (its session, a header or a token): see the app's documentation" }
      : { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The app's user token (HS256 or from AUTH_JWKS_URL)" },
    appCookie: {
      type: "apiKey",
      in: "cookie",
      name: hook ? "session" : (auth.cookieName ?? "AUTH_COOKIE_NAME"),
      description: hook
        ? "The host app's session cookie, if its identify hook reads one: GET download and status routes only, never on a request another site started"
        : `The same token in a cookie${auth.cookieName === null ? " (off: AUTH_COOKIE_NAME is not set)" : ""}; GET download and status routes only`,
    },
    adminToken: { type: "http", scheme: "bearer", description: "ADMIN_API_TOKEN" },
    webhookSignature: { type: "apiKey", in: "header", name: "Webhook-Signature", description: "time=<unix>,sig1=<hex HMAC-SHA256>" },
  };
}

const SCHEMAS = {
  Problem: {
    type: "object",
    description: "RFC 9457 problem details",
    required: ["type", "title", "status", "detail", "instance"],
    properties: {
      type: { type: "string", enum: Object.keys(PROBLEM_STATUS) },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string" },
      instance: { type: "string" },
      field: { type: "string", description: "invalid-request: the offending field" },
      setting: { type: "string", description: "misconfigured: the setting (never its value)" },
      retryAfter: { type: "integer", description: "429/503: seconds to wait" },
      percentComplete: { type: "number", description: "download-preparing: how far Stream is with the file" },
    },
  },
  Preparing: {
    type: "object",
    required: ["status", "percentComplete", "retryAfter"],
    properties: { status: { const: "inprogress" }, percentComplete: { type: "number" }, retryAfter: { type: "integer" } },
  },
  DownloadUrl: {
    type: "object",
    required: ["url", "expiresAt"],
    properties: { url: { type: "string", format: "uri" }, expiresAt: { type: "string", format: "date-time" } },
  },
  TypeStatus: {
    type: "object",
    properties: {
      status: { enum: ["none", "inprogress", "ready", "error", "unavailable"] },
      percentComplete: { type: "number" },
      retryAfter: { type: "number" },
      reason: { enum: ["video-not-downloadable"] },
    },
  },
  DownloadStates: {
    type: "object",
    properties: { video: { type: "string" }, default: ref("TypeStatus"), audio: ref("TypeStatus") },
  },
  CreatedLink: {
    type: "object",
    required: ["id", "url", "expiresAt"],
    properties: { id: { type: "string" }, url: { type: "string", format: "uri" }, expiresAt: { type: "string", format: "date-time" } },
  },
  LinkFacts: {
    type: "object",
    properties: {
      id: { type: "string" },
      video: {
        type: "object",
        properties: {
          name: { type: ["string", "null"] },
          durationSeconds: { type: ["number", "null"] },
          sizeBytes: { type: ["integer", "null"] },
          thumbnail: { type: ["string", "null"], format: "uri" },
        },
      },
      type: { enum: [...DOWNLOAD_TYPES] },
      expiresAt: { type: "string", format: "date-time" },
      remainingDownloads: { type: ["integer", "null"] },
      passwordRequired: { type: "boolean" },
    },
  },
};

/** Hono's `:param` (with an optional `{regex}`) as OpenAPI's `{param}`. */
const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, "{$1}");

const documents = new WeakMap<object, Map<string, JsonSchema>>();

/** The document of `app`'s described routes (built on first use, when every route is registered). */
export function openApiDocument(app: { routes: Hono["routes"] }, auth: DocumentedAuth): JsonSchema {
  const byAuth = documents.get(app) ?? new Map<string, JsonSchema>();
  documents.set(app, byAuth);
  const key = JSON.stringify(auth);
  let document = byAuth.get(key);
  if (document === undefined) {
    const paths: Record<string, Record<string, Operation>> = {};
    for (const route of app.routes) {
      const operation = (route.handler as Partial<Documented>)[OPERATION];
      if (operation === undefined) continue;
      const described = operation();
      if (!auth.admin && described.security === adminOnly) continue;
      const path = toOpenApiPath(route.path);
      paths[path] = { ...paths[path], [route.method.toLowerCase()]: described };
    }
    document = {
      openapi: "3.1.0",
      info: {
        title: "stream-download-gateway",
        version,
        description: "Safe MP4/M4A downloads of Cloudflare Stream videos: entitlement, signed tokens, share links.",
      },
      security: userAuth,
      paths,
      components: { securitySchemes: securitySchemes(auth), schemas: SCHEMAS },
    };
    byAuth.set(key, document);
  }
  return document;
}
