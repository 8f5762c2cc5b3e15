// The admin API's gate (SPEC §3): the app's backend presents ADMIN_API_TOKEN as a bearer token.
// ADMIN_API_TOKEN may hold two tokens so that it can be rotated without downtime.
import { Problem } from "../problems";
import { bearerToken } from "./identify";

const CHALLENGE = { "www-authenticate": 'Bearer realm="stream-download-gateway-admin"' };

function refused(detail: string): Problem {
  return new Problem("unauthenticated", detail, { headers: CHALLENGE });
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

// The configured tokens' digests, hashed once per isolate. JSON as the key: unambiguous for
// any list of strings.
const digests = new Map<string, Promise<ArrayBuffer[]>>();

function configuredDigests(tokens: string[]): Promise<ArrayBuffer[]> {
  const key = JSON.stringify(tokens);
  let cached = digests.get(key);
  if (cached === undefined) {
    cached = Promise.all(tokens.map(sha256));
    digests.set(key, cached);
  }
  return cached;
}

export async function requireAdmin(request: Request, tokens: string[]): Promise<void> {
  if (tokens.length === 0) throw refused("admin API disabled");
  const presented = bearerToken(request);
  if (!presented) throw refused("admin token required");

  // Digests have equal length whatever was sent, so timingSafeEqual applies and the comparison
  // leaks neither the tokens' length nor their prefix. Every token is compared, without early
  // exit, so timing does not tell which of the two matched.
  const digest = await sha256(presented);
  let matched = false;
  for (const expected of await configuredDigests(tokens)) {
    const equal = crypto.subtle.timingSafeEqual(digest, expected);
    matched = equal || matched;
  }
  if (!matched) throw refused("admin token invalid");
}
