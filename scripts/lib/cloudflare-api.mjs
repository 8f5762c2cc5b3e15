// Cloudflare's REST API as the scripts call it (setup, doctor, dev): one call under an account,
// with Cloudflare's envelope `{success, errors, result}` read and its refusals turned into errors
// that say what Stream or Queues answered and what to check.
import { z } from "zod";

const API_TIMEOUT_MS = 30_000;

/** Exit code 1: Stream, wrangler or the account's state stopped the setup. */
export class SetupError extends Error {}

const ApiError = z.object({
  code: z.number(),
  message: z.string(),
  get error_chain() {
    return z.array(ApiError).optional();
  },
});
const Envelope = z.object({ success: z.boolean(), errors: z.array(ApiError).default([]), result: z.unknown() });
// Stream's own codes (docs/stream-behaviour.md §5) with what to check; the codes and messages are always
// printed as Stream sent them.
const HINTS = new Map([
  [10000, "The API token is wrong, expired, lacks Stream Write, or does not cover this account."],
  [6003, "The API token is malformed: copy it again, without spaces or line breaks."],
  [9106, "No API token was sent."],
  [7003, "Stream knows no such account (or object): check the account id."],
  [971, "Rate limited: Stream locks an over-limit user (every one of its tokens) out for 5 minutes."],
]);

export class StreamApiError extends SetupError {
  constructor(request, status, errors, retryAfter) {
    const lines = [`Stream refused ${request} (HTTP ${status}):`];
    const list = (items, indent) => {
      for (const e of items) {
        lines.push(`${indent}${e.code} ${e.message}`);
        list(e.error_chain ?? [], `${indent}  `);
      }
    };
    list(errors, "  ");
    const hint = errors.map((e) => HINTS.get(e.code)).find(Boolean);
    if (hint) lines.push(hint);
    if (retryAfter) lines.push(`Retry after ${retryAfter} s.`);
    super(lines.join("\n"));
    this.status = status;
  }
}

/** `value` as `schema` reads it, or a SetupError naming the answer to `what`. */
export function shaped(schema, value, what) {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new SetupError(`Stream's answer to ${what} has an unexpected shape.`);
  return parsed.data;
}

/**
 * `call(method, path, body)` under `…/accounts/{accountId}{section}`: the result, or a
 * SetupError (not reached, not Cloudflare's envelope) or StreamApiError (refused).
 */
export function accountApi({ apiBase, accountId, apiToken }, section = "") {
  const base = `${apiBase.replace(/\/+$/, "")}/accounts/${encodeURIComponent(accountId)}${section}`;
  return async function call(method, path, body) {
    const request = `${method} …${section}${path}`;
    let res;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiToken}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch (error) {
      throw new SetupError(`${request}: could not reach ${apiBase} (${error.cause?.message ?? error.message}).`);
    }
    const text = await res.text();
    let envelope;
    try {
      envelope = Envelope.safeParse(JSON.parse(text));
    } catch {
      envelope = undefined;
    }
    if (!envelope?.success) {
      throw new SetupError(`${request}: HTTP ${res.status} without Cloudflare's API envelope (is ${apiBase} the API base?).`);
    }
    if (!res.ok || !envelope.data.success) {
      throw new StreamApiError(request, res.status, envelope.data.errors, res.headers.get("retry-after"));
    }
    return envelope.data.result;
  };
}
