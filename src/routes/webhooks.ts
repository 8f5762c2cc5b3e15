// Stream's webhook (docs/http-api.md, docs/stream-behaviour.md §4): verify → parse → record readiness → prepare.
import { Hono } from "hono";
import * as z from "../input/zod";
import { type AppEnv, deps } from "../gateway/context";
import { UID_PATTERN, parseInput, parseJson, readBody } from "../input/validate";
import { Problem, invalidRequest } from "../problems";
import { verifyWebhookSignature, type SignatureFailure } from "../identify/stream-webhook";
import { toVideo, Video } from "../stream/client";
import { onVideoProcessed } from "../ensure/video-processed";
import { body, documented, ok, problems, type Operation } from "./openapi";

/** A video object is a few KB; the cap keeps an unauthenticated caller from making us buffer more. */
const MAX_BODY_BYTES = 1024 * 1024;

// Only the fields the gateway uses; Stream sends the whole video object, and the rest may change.
// Null or missing fields are read as the Stream client reads them (stream/client.ts).
const WebhookVideo = z.extend(Video, { uid: z.string().check(z.regex(UID_PATTERN, "must be a 32-character lowercase hex Stream video UID")) });

const REFUSALS: Record<SignatureFailure | "disabled", string> = {
  disabled: "the webhook receiver is disabled: STREAM_WEBHOOK_SECRET is not set",
  missing: "the Webhook-Signature header is required",
  malformed: "the Webhook-Signature header must be time=<unix>,sig1=<hex>",
  stale: "the Webhook-Signature time is more than 5 minutes from now",
  mismatch: "the Webhook-Signature does not match the body",
};

function refused(reason: keyof typeof REFUSALS): Problem {
  return new Problem("unauthenticated", REFUSALS[reason], {
    headers: { "www-authenticate": 'Webhook-Signature realm="stream-download-gateway-webhooks"' },
  });
}

/** Stream signs the raw bytes: they must be UTF-8 as sent, never read with replacement characters. */
function bodyText(body: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw invalidRequest("body", "the body is not valid JSON");
  }
}

const STREAM_WEBHOOK = (): Operation => ({
  summary: "Stream's webhook (signed with Webhook-Signature)",
  security: [{ webhookSignature: [] }],
  requestBody: body(WebhookVideo),
  responses: { 200: ok("Recorded", { type: "object" }), ...problems("invalid-request", "payload-too-large", "unauthenticated", "upstream-unavailable") },
});

export function webhookRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.post("/webhooks/stream", documented(STREAM_WEBHOOK), async (c) => {
    const d = deps(c);
    const key = d.webhookKey;
    if (key === null) throw refused("disabled");
    const body = await readBody(c.req.raw, MAX_BODY_BYTES);
    const check = await verifyWebhookSignature(key, c.req.header("webhook-signature") ?? null, body, d.now);
    if (!check.ok) {
      console.warn("webhook refused:", check.reason);
      throw refused(check.reason);
    }

    const video = parseInput(WebhookVideo, parseJson(bodyText(body)), "body");
    const prepared = await onVideoProcessed({ config: d.config, db: d.db, stream: d.stream, cache: d.cache, now: d.now }, toVideo(video, video.uid), d.now);
    // Stream documents no redelivery, so a failed preparation is not its to retry: the row stays
    // unfinished for the cron's re-check and the next request. A 5xx is left for the exception
    // (D1 failing, so that nothing could be recorded).
    const failed = prepared.filter((p) => p === "failed").length;
    if (failed > 0) console.warn(`webhook for ${video.uid}: ${failed} preparation(s) failed; the cron re-checks them`);
    return c.json({ ok: true, unfinished: failed });
  });
  return routes;
}
