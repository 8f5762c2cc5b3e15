// Test helpers for the gateway: app tokens signed like the app would, and requests through SELF.
import { SELF, env } from "cloudflare:test";
import { SignJWT, type JWTPayload } from "jose";

export const GATEWAY = "https://gateway.test";
export const ADMIN_TOKEN = "test-admin-token-one";

/** An app token as the app's backend would issue it (HS256 with the test secret). */
export async function appToken(sub: string, claims: JWTPayload = {}, ttlSeconds = 600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(env.AUTH_HS256_SECRET));
}

/** A random user id, so that per-user rate limits and caches never leak between tests. */
export const randomUser = () => `user-${crypto.randomUUID()}`;

export function gateway(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return SELF.fetch(`${GATEWAY}${path}`, { redirect: "manual", ...rest, headers });
}

export function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return gateway(path, {
    method,
    token: ADMIN_TOKEN,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
