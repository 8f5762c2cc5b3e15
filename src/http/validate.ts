import type { z } from "zod";
import { invalidRequest } from "../problems";

export const UID_PATTERN = /^[0-9a-f]{32}$/;

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
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : where;
  throw invalidRequest(field, `${field}: ${issue?.message ?? "invalid"}`);
}

/** The body as text, refused beyond `maxBytes` (by its Content-Length before reading, if it has one). */
async function readText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => invalidRequest("body", `the body must be at most ${maxBytes} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) throw tooLarge();
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge();
  return new TextDecoder().decode(bytes);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest("body", "the body is not valid JSON");
  }
}

/** A JSON body of at most `maxBytes`; an empty body is `{}`. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readText(request, maxBytes);
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) throw invalidRequest("content-type", "the body must be application/json");
  return parseJson(text);
}

/** A form post (an HTML page's) or JSON (anything else), of at most `maxBytes`; empty is `{}`. */
export async function readFormOrJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readText(request, maxBytes);
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  return /^application\/x-www-form-urlencoded/i.test(type) ? Object.fromEntries(new URLSearchParams(text)) : parseJson(text);
}
