import * as z from "./zod";
import { invalidRequest, payloadTooLarge } from "../problems";

export const UID_PATTERN = /^[0-9a-f]{32}$/;

/** A page size from the query string: 1 to `max`, `fallback` when absent. */
export const pageLimit = (max: number, fallback: number) => z._default(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(max))), fallback);

/**
 * Checked before any I/O: the UID is spliced into Stream API paths that carry a Stream Write
 * token, so nothing but 32 lowercase hex characters may get that far.
 */
export function parseUid(value: string | undefined, field = "uid"): string {
  if (value === undefined || !UID_PATTERN.test(value)) {
    throw invalidRequest(field, "must be a Stream video UID: 32 lowercase hexadecimal characters");
  }
  return value;
}

/** Validates untrusted input; the first issue becomes an invalid-request problem naming its field. */
export function parseInput<T extends z.ZodMiniType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : where;
  throw invalidRequest(field, `${field}: ${issue?.message ?? "invalid"}`);
}

/**
 * The one body reader: the bytes exactly as sent (a webhook's MAC covers them), read as they
 * stream in and never past `maxBytes`. A larger Content-Length is refused before reading; a
 * chunked body is cut off at the first chunk over the cap, so nobody can make an isolate that
 * serves other users buffer an unbounded body. Over the cap: 413, and nothing more is read.
 */
export async function readBody(message: Request | Response, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = message.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= maxBytes)) {
    await message.body?.cancel();
    throw payloadTooLarge(maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (message.body) {
    const reader = message.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw payloadTooLarge(maxBytes);
      }
      chunks.push(read.value);
    }
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The text as JSON, or undefined when it is none (no JSON value is undefined). */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A request body's text as JSON, or 400 invalid-request. */
export function parseJson(text: string): unknown {
  const value = tryJson(text);
  if (value === undefined) throw invalidRequest("body", "the body is not valid JSON");
  return value;
}

/** A body read by `readBody`, parsed as JSON; an empty body is `{}`. */
export function jsonBody(request: Request, bytes: Uint8Array): unknown {
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) throw invalidRequest("content-type", "the body must be application/json");
  return parseJson(text);
}

/** A body read by `readBody`: a form post (an HTML page's) or JSON (anything else); empty is `{}`. */
export function formOrJsonBody(request: Request, bytes: Uint8Array): unknown {
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  return /^application\/x-www-form-urlencoded/i.test(type) ? Object.fromEntries(new URLSearchParams(text)) : parseJson(text);
}

/** A JSON body of at most `maxBytes`, for routes with nothing to check before parsing it. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  return jsonBody(request, await readBody(request, maxBytes));
}
