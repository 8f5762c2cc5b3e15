// Cloudflare API authentication as observed in the wild (docs/stream-behaviour.md §5). Which tokens are
// "well-formed" is not documented: we treat 20+ characters of [A-Za-z0-9_-] as token-shaped.
import { fail } from "../envelope";

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,}$/;

export function authenticate(headers: Headers, apiToken: string): Response | null {
  const authorization = headers.get("authorization");
  if (authorization === null) {
    if (headers.has("x-auth-key") || headers.has("x-auth-email")) {
      // Legacy Global API keys: the emulator knows none, so every pair is unknown.
      return fail(403, [{ code: 9103, message: "Unknown X-Auth-Key or X-Auth-Email" }]);
    }
    return fail(400, [{ code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers" }]);
  }
  const match = /^Bearer (\S+)$/.exec(authorization);
  if (!match?.[1] || !TOKEN_SHAPE.test(match[1])) {
    return fail(400, [
      {
        code: 6003,
        message: "Invalid request headers",
        error_chain: [{ code: 6111, message: "Invalid format for Authorization header" }],
      },
    ]);
  }
  if (match[1] !== apiToken) return fail(401, [{ code: 10000, message: "Authentication error" }]);
  return null;
}
