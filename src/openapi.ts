// The API as OpenAPI 3.1, generated from the very zod schemas the routes validate input with, so
// the document cannot drift from what the gateway accepts. Built once per isolate, on first use.
import { z } from "zod";
import { PROBLEM_STATUS } from "./problems";

import { AuditQuery, BlockBody, GrantsDelete, GrantsPut, GrantsQuery, RevokeLinksBody } from "./routes/admin";
import { DownloadQuery, DownloadUrlBody } from "./routes/downloads";
import { LinkDownloadBody, LinkDownloadQuery } from "./routes/share";
import { CreateLinkBody, ListLinksQuery } from "./routes/share-links";
import { WebhookVideo } from "./routes/webhooks";

type JsonSchema = Record<string, unknown>;

function schema(type: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(type, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** Each property of a query object schema becomes one `in: query` parameter. */
function queryParameters(type: z.ZodObject): JsonSchema[] {
  const object = schema(type) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: object.required?.includes(name) ?? false,
    schema: property,
  }));
}

const path = (name: string, description: string, pattern?: string): JsonSchema => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", ...(pattern ? { pattern } : {}) },
});
const UID = path("uid", "Stream video UID", "^[0-9a-f]{32}$");
const LINK = path("id", "Share-link id", "^[A-Za-z0-9_-]{32}$");

const json = (s: JsonSchema) => ({ "application/json": { schema: s } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (type: z.ZodType, required = true) => ({ required, content: json(schema(type)) });

/** The problem types a route can answer with, as `application/problem+json` responses by status. */
function problems(...types: (keyof typeof PROBLEM_STATUS)[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, string[]>();
  for (const type of [...types, "internal" as const]) {
    const status = PROBLEM_STATUS[type];
    byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, slugs]) => [
      String(status),
      {
        description: slugs.join(", "),
        content: { "application/problem+json": { schema: ref("Problem") } },
      },
    ]),
  );
}

const PREPARING = {
  description: "Stream is preparing the file; retry after `Retry-After` seconds. Browsers get a progress page.",
  headers: { "Retry-After": { schema: { type: "integer" } } },
  content: json(ref("Preparing")),
};
const REDIRECT = {
  description: "Redirect to the download at Stream's delivery host (`Cache-Control: no-store`)",
  headers: { Location: { schema: { type: "string", format: "uri" } } },
};
const TICKET = {
  description:
    "Stream mode: the grant is recorded and the file is at the Location, the gateway's own /d/<ticket> URL, for the grant's lifetime (resume there with Range)",
  headers: { Location: { schema: { type: "string", format: "uri" } } },
};
const TICKET_PARAMETER = path("ticket", "The grant ticket a 303 named", "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$");
const FILE = {
  description: "The file, streamed through the gateway (`Content-Disposition: attachment`)",
  content: { "video/mp4": {}, "audio/mp4": {} },
};
const userAuth = [{ appToken: [] }, { appCookie: [] }];
const bearerOnly = [{ appToken: [] }];
const adminOnly = [{ adminToken: [] }];
const ok = (description: string, s?: JsonSchema) => ({ description, ...(s ? { content: json(s) } : {}) });

const PATHS = {
  "/healthz": { get: { summary: "Liveness (no I/O)", security: [], responses: { 200: ok("Alive", { type: "object" }) } } },
  "/assets/stream-download.js": {
    get: {
      summary: "The download-button helper (ES module, dependency-free)",
      security: [],
      responses: { 200: { description: "JavaScript", content: { "text/javascript": {} } }, ...problems("not-found") },
    },
  },
  "/openapi.json": { get: { summary: "This document", security: [], responses: { 200: ok("OpenAPI 3.1", { type: "object" }) } } },
  "/v1/videos/{uid}/download": {
    get: {
      summary: "Download a video (MP4) or its audio (M4A)",
      security: userAuth,
      parameters: [UID, ...queryParameters(DownloadQuery)],
      responses: {
        202: PREPARING,
        302: REDIRECT,
        303: TICKET,
        ...problems("invalid-request", "unauthenticated", "not-entitled", "video-not-ready", "video-not-protected", "rate-limited", "quota-exceeded", "misconfigured", "download-failed", "upstream-unavailable"),
      },
    },
  },
  "/v1/videos/{uid}/download-url": {
    post: {
      summary: "A signed download URL, for a button that calls fetch first",
      security: bearerOnly,
      parameters: [UID],
      requestBody: body(DownloadUrlBody, false),
      responses: {
        200: ok("The URL and when its token expires", ref("DownloadUrl")),
        202: PREPARING,
        ...problems("invalid-request", "payload-too-large", "unauthenticated", "not-entitled", "video-not-ready", "video-not-protected", "rate-limited", "quota-exceeded", "misconfigured", "download-failed", "upstream-unavailable"),
      },
    },
  },
  "/v1/videos/{uid}/downloads": {
    get: {
      summary: "Download state of both types, for progress UI",
      security: userAuth,
      parameters: [UID],
      responses: { 200: ok("State per type", ref("DownloadStates")), ...problems("invalid-request", "unauthenticated", "not-entitled", "video-not-ready", "video-not-protected", "rate-limited", "misconfigured", "upstream-unavailable") },
    },
  },
  "/v1/videos/{uid}/share-links": {
    post: {
      summary: "Create a share link",
      security: bearerOnly,
      parameters: [UID],
      requestBody: body(CreateLinkBody),
      responses: {
        201: ok("The link", ref("CreatedLink")),
        ...problems("invalid-request", "payload-too-large", "rate-limited", "too-many-links", "unauthenticated", "not-entitled", "video-not-ready", "video-not-protected", "misconfigured", "download-failed", "upstream-unavailable"),
      },
    },
  },
  "/v1/share-links": {
    get: {
      summary: "The caller's share links, newest first",
      security: bearerOnly,
      parameters: queryParameters(ListLinksQuery),
      responses: { 200: ok("A page of links", { type: "object" }), ...problems("invalid-request", "unauthenticated", "rate-limited") },
    },
  },
  "/v1/share-links/{id}": {
    delete: {
      summary: "Revoke one of the caller's share links",
      security: bearerOnly,
      parameters: [path("id", "Share-link id")],
      responses: { 204: { description: "Revoked" }, ...problems("unauthenticated", "not-found", "rate-limited") },
    },
  },
  "/s/{id}": {
    get: {
      summary: "Share-link landing page (HTML) or its facts (JSON); uses nothing",
      security: [],
      parameters: [LINK],
      responses: {
        200: { description: "The link", content: { "text/html": {}, ...json(ref("LinkFacts")) } },
        ...problems("not-found", "link-expired", "link-revoked", "link-exhausted"),
      },
    },
    post: {
      summary: "Download through a share link (takes one use)",
      security: [],
      parameters: [LINK, ...queryParameters(LinkDownloadQuery)],
      requestBody: {
        required: false,
        content: { ...json(schema(LinkDownloadBody)), "application/x-www-form-urlencoded": { schema: schema(LinkDownloadBody) } },
      },
      responses: {
        202: PREPARING,
        302: REDIRECT,
        303: TICKET,
        ...problems("invalid-request", "payload-too-large", "not-found", "not-entitled", "link-expired", "link-revoked", "link-exhausted", "rate-limited", "quota-exceeded", "download-failed", "upstream-unavailable", "misconfigured"),
      },
    },
  },
  "/d/{ticket}": {
    get: {
      summary: "The file of a stream-mode grant, resumable with Range and If-Range for the grant's lifetime (takes no use)",
      security: [],
      parameters: [TICKET_PARAMETER],
      responses: {
        200: FILE,
        206: { description: "A range of the file" },
        416: { description: "Range not satisfiable" },
        ...problems("not-found", "not-entitled", "rate-limited", "download-failed", "upstream-unavailable", "misconfigured"),
      },
    },
    post: {
      summary: "As GET (for clients that repeat a POST after the 303)",
      security: [],
      parameters: [TICKET_PARAMETER],
      responses: { 200: FILE, 206: { description: "A range of the file" }, ...problems("not-found", "not-entitled", "rate-limited", "download-failed", "upstream-unavailable") },
    },
  },
  "/webhooks/stream": {
    post: {
      summary: "Stream's webhook (signed with Webhook-Signature)",
      security: [{ webhookSignature: [] }],
      requestBody: body(WebhookVideo),
      responses: { 200: ok("Recorded", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated", "upstream-unavailable") },
    },
  },
  "/v1/admin/grants": {
    put: { summary: "Upsert grants (≤ 1,000)", security: adminOnly, requestBody: body(GrantsPut), responses: { 200: ok("Upserted", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } },
    delete: { summary: "Delete grants (≤ 1,000)", security: adminOnly, requestBody: body(GrantsDelete), responses: { 200: ok("Deleted", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } },
    get: { summary: "List grants", security: adminOnly, parameters: queryParameters(GrantsQuery), responses: { 200: ok("A page of grants", { type: "object" }), ...problems("invalid-request", "unauthenticated") } },
  },
  "/v1/admin/videos/{uid}/block": {
    post: { summary: "Kill switch: refuse every download of the video and revoke its links", security: adminOnly, parameters: [UID], requestBody: body(BlockBody, false), responses: { 200: ok("Blocked", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } },
  },
  "/v1/admin/videos/{uid}/unblock": {
    post: { summary: "Lift the kill switch", security: adminOnly, parameters: [UID], responses: { 200: ok("Unblocked", { type: "object" }), ...problems("invalid-request", "unauthenticated") } },
  },
  "/v1/admin/videos/{uid}/refresh": {
    post: { summary: "Forget cached download state", security: adminOnly, parameters: [UID], responses: { 200: ok("Refreshed", { type: "object" }), ...problems("invalid-request", "unauthenticated") } },
  },
  "/v1/admin/share-links/{id}": {
    delete: { summary: "Revoke any share link", security: adminOnly, parameters: [path("id", "Share-link id")], responses: { 204: { description: "Revoked" }, ...problems("unauthenticated", "not-found") } },
  },
  "/v1/admin/share-links/revoke": {
    post: { summary: "Revoke every link of a user or a video", security: adminOnly, requestBody: body(RevokeLinksBody), responses: { 200: ok("How many were revoked", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated") } },
  },
  "/v1/admin/audit": {
    get: { summary: "The audit trail, newest first", security: adminOnly, parameters: queryParameters(AuditQuery), responses: { 200: ok("A page of events", { type: "object" }), ...problems("invalid-request", "unauthenticated") } },
  },
};

const COMPONENTS = {
  securitySchemes: {
    appToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The app's user token (HS256 or from AUTH_JWKS_URL)" },
    appCookie: { type: "apiKey", in: "cookie", name: "AUTH_COOKIE_NAME", description: "The same token in a cookie; GET download and status routes only" },
    adminToken: { type: "http", scheme: "bearer", description: "ADMIN_API_TOKEN" },
    webhookSignature: { type: "apiKey", in: "header", name: "Webhook-Signature", description: "time=<unix>,sig1=<hex HMAC-SHA256>" },
  },
  schemas: {
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
      properties: {
        video: { type: "string" },
        default: ref("TypeStatus"),
        audio: ref("TypeStatus"),
      },
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
        video: { type: "object", properties: { name: { type: ["string", "null"] } } },
        type: { enum: ["default", "audio"] },
        expiresAt: { type: "string", format: "date-time" },
        remainingDownloads: { type: ["integer", "null"] },
        passwordRequired: { type: "boolean" },
      },
    },
  },
};

let document: JsonSchema | null = null;

export function openApiDocument(): JsonSchema {
  document ??= {
    openapi: "3.1.0",
    info: {
      title: "stream-download-gateway",
      version: "0.1.0",
      description: "Safe MP4/M4A downloads of Cloudflare Stream videos: entitlement, signed tokens, share links.",
    },
    security: userAuth,
    paths: PATHS,
    components: COMPONENTS,
  };
  return document;
}
