// What every API call passes before its handler: counted, authenticated, scoped to the account,
// rate limited like Stream, and disturbed by any matching injected fault.
import type { Context } from "hono";
import type { z } from "zod";
import { badRequest, fail, noRoute } from "../envelope";
import type { Emulator } from "../emulator";
import { strike, type Fault, type Operation } from "../instruments";
import type { VideoRecord } from "../store";
import { authenticate } from "./auth";

export type Handler = (c: Context) => Response | Promise<Response>;

export async function applyFault(fault: Fault | undefined): Promise<Response | null> {
  const failure = await strike(fault);
  if (!failure) return null;
  const headers: Record<string, string> = failure.retryAfter === null ? {} : { "retry-after": String(failure.retryAfter) };
  return fail(failure.status, [{ code: failure.code, message: failure.message }], headers);
}

/** The API path as Cloudflare names it in 7003 messages. */
export function apiPath(c: Context): string {
  return c.req.path.replace(/^\/client\/v4/, "");
}

export function guarded(emulator: Emulator, operation: Operation, handler: Handler): Handler {
  return async (c) => {
    const uid = c.req.param("uid");
    emulator.counters.count(operation, uid);
    const denied = authenticate(c.req.raw.headers, emulator.settings.apiToken);
    if (denied) return denied;
    const account = c.req.param("account");
    if (account !== emulator.settings.accountId) {
      // A token is scoped to its accounts; an identifier that is not even account-shaped has no route.
      return /^[0-9a-f]{32}$/.test(account ?? "")
        ? fail(403, [{ code: 10000, message: "Authentication error" }])
        : noRoute(apiPath(c));
    }
    const wait = emulator.rateLimit.hit(emulator.now());
    if (wait > 0) {
      return fail(429, [{ code: 971, message: "Please wait and consider throttling your request speed" }], {
        "retry-after": String(wait),
      });
    }
    const injected = await applyFault(emulator.faults.take(operation, uid));
    if (injected) return injected;
    return handler(c);
  };
}

/** `guarded`, for routes under `/{uid}`: an unknown video has no route, like an unknown path. */
export function guardedVideo(
  emulator: Emulator,
  operation: Operation,
  handler: (c: Context, video: VideoRecord) => Response | Promise<Response>,
): Handler {
  return guarded(emulator, operation, (c) => {
    const video = emulator.video(c.req.param("uid") ?? "");
    return video ? handler(c, video) : noRoute(apiPath(c));
  });
}

/**
 * Request bodies are optional JSON, validated by `schema`: a body that is not JSON is refused as
 * Cloudflare does (6007), one that does not fit as a Bad Request naming the fields.
 */
export async function readBody<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<{ ok: true; value: z.infer<T> } | { ok: false; response: Response }> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, response: fail(400, [{ code: 6007, message: "Malformed JSON in request body" }]) };
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, response: badRequest(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")) };
}
