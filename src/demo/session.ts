// The demo's sign-in: the app JWT that the app's backend would issue (HS256 with
// AUTH_HS256_SECRET, like `npm run token`), and the session cookie that carries it.
import { SignJWT } from "jose";
import type { Config } from "../config/config";
import { misconfigured } from "../problems";
import type { DemoUser } from "./users";

/** A working day; the dev token of `npm run dev` lasts 24 h. */
export const SESSION_SECONDS = 8 * 3600;

/** The cookie the demo's session rides in: the gateway's own (AUTH_COOKIE_NAME), if any. */
export function demoCookieName(config: Config): string | null {
  return config.auth.kind === "hook" ? null : config.auth.cookieName;
}

export async function signDemoToken(config: Config, user: DemoUser, now: number): Promise<{ token: string; expiresAt: number }> {
  const { auth, entitlement } = config;
  if (auth.kind !== "hs256") {
    throw misconfigured("AUTH_HS256_SECRET", "AUTH_HS256_SECRET is required for the demo's sign-in");
  }
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + SESSION_SECONDS;
  const claim = entitlement.kind === "claims-and-grants" ? entitlement.videosClaim : "videos";
  const jwt = new SignJWT({ [claim]: user.videos, name: user.name })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt);
  // The gateway checks iss and aud when it is configured to: the demo's tokens must pass.
  if (auth.issuer !== null) jwt.setIssuer(auth.issuer);
  if (auth.audience !== null) jwt.setAudience(auth.audience);
  return { token: await jwt.sign(auth.secret), expiresAt };
}

/**
 * The AUTH_COOKIE_NAME cookie: HttpOnly (page scripts never read it; they get the token in the
 * sign-in answer for the bearer header that every POST needs), SameSite=Lax, whole site, Secure on https.
 */
export function sessionCookie(name: string, value: string, maxAgeSeconds: number, request: Request): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  return `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; SameSite=Lax${secure}`;
}
