// The admin API's gate (docs/http-api.md › Routes): the app's backend presents ADMIN_API_TOKEN as a bearer token.
// ADMIN_API_TOKEN may hold two tokens so that it can be rotated without downtime.
import { Problem } from "../problems";
import { bearerToken } from "./app-token";

const CHALLENGE = { "www-authenticate": 'Bearer realm="stream-download-gateway-admin"' };

function refused(detail: string): Problem {
  return new Problem("unauthenticated", detail, { headers: CHALLENGE });
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/** The configured tokens and their digests, hashed on first use; built once per configuration (gateway/gateway.ts). */
export interface AdminGate {
  enabled: boolean;
  digests(): Promise<ArrayBuffer[]>;
}

export function createAdminGate(tokens: string[]): AdminGate {
  let digests: Promise<ArrayBuffer[]> | undefined;
  return { enabled: tokens.length > 0, digests: () => (digests ??= Promise.all(tokens.map(sha256))) };
}

export async function requireAdmin(request: Request, gate: AdminGate): Promise<void> {
  if (!gate.enabled) throw refused("admin API disabled");
  const presented = bearerToken(request);
  if (!presented) throw refused("admin token required");

  // Digests have equal length whatever was sent, so timingSafeEqual applies and the comparison
  // leaks neither the tokens' length nor their prefix. Every token is compared, without early
  // exit, so timing does not tell which of the two matched.
  const digest = await sha256(presented);
  let matched = false;
  for (const expected of await gate.digests()) {
    const equal = crypto.subtle.timingSafeEqual(digest, expected);
    matched = equal || matched;
  }
  if (!matched) throw refused("admin token invalid");
}
