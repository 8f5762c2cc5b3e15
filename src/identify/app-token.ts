// Step 1 of the request path (docs/design.md): who is calling? The app's JWT, from the bearer header
// or (GET download/status routes only) a cookie, verified with jose against a shared HS256
// secret or the identity provider's JWKS.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import type { AuthConfig } from "../config/config";
import { Problem, retryLater, unauthenticated } from "../problems";

export interface AppUser {
  id: string;
  claims: JWTPayload;
}

const REALM = 'Bearer realm="stream-download-gateway"';

// Listed explicitly so that a token can never pick its own algorithm: no `none`, and no HS256
// verified with an identity provider's public key as the HMAC secret (alg confusion).
const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/**
 * A user id the gateway can key quotas, rate limits, links and audit rows on, and the admin API
 * can name (its user fields take up to 256 characters): a non-empty string without control
 * characters, and well-formed (a lone UTF-16 surrogate would not come back from D1 as it went in,
 * so its owner could never manage their links again).
 */
export function isUserId(value: unknown): value is string {
  return typeof value === "string" && value !== "" && value.length <= 256 && value.isWellFormed() && !/[\u0000-\u001f\u007f]/.test(value);
}
/** What clients are told to wait when the identity provider's JWKS could not be fetched. */
const JWKS_RETRY_SECONDS = 30;

/** Why a token was refused. Always a fixed string: it goes into a response header. */
type Reason =
  | "malformed authorization header"
  | "token malformed"
  | "token expired"
  | "token not yet valid"
  | "token missing exp"
  | "token missing sub"
  | "token missing iss"
  | "token missing aud"
  | "wrong issuer"
  | "wrong audience"
  | "token claims invalid"
  | "token sub invalid"
  | "token signature invalid"
  | "token algorithm not allowed"
  | "token signing key unknown"
  | "cross-site cookie";

function refused(reason: Reason | null): Problem {
  const challenge = reason === null ? REALM : `${REALM}, error="invalid_token", error_description="${reason}"`;
  return unauthenticated(reason ?? "no credentials", challenge);
}

const BEARER = /^Bearer +(\S+)$/i;

/**
 * The credentials of an `Authorization: Bearer` header: null when there is no Authorization
 * header at all, "" when there is one that is not a single bearer token (so it can never match).
 */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (header === null) return null;
  return BEARER.exec(header)?.[1] ?? "";
}

/** The first cookie called `name`, compared as a plain string (the name is never a pattern). */
function cookie(request: Request, name: string): string | null {
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    // RFC 6265 allows a cookie value wrapped in double quotes.
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return null;
}

function jwksOutage(): Problem {
  return retryLater("upstream-unavailable", "The identity provider's signing keys could not be fetched.", JWKS_RETRY_SECONDS);
}

/** The auth configurations that verify the app's own tokens (the others bring an identify hook). */
export type TokenAuth = Exclude<AuthConfig, { kind: "hook" }>;

/** Verifies app tokens for one auth configuration; built once per configuration (gateway/gateway.ts). */
export interface AppTokenVerifier {
  auth: TokenAuth;
  verify(token: string): Promise<JWTPayload>;
  /** Called when the identity provider's keys could not be fetched: no fetch for a while. */
  outage(): void;
}

export function createVerifier(auth: TokenAuth): AppTokenVerifier {
  const options: JWTVerifyOptions = {
    requiredClaims: ["exp", "sub"],
    issuer: auth.issuer ?? undefined,
    audience: auth.audience ?? undefined,
    clockTolerance: 60,
  };
  if (auth.kind === "hs256") {
    // Handed raw bytes, jose would import the HS256 secret again on every request.
    const hmacKey = crypto.subtle.importKey("raw", auth.secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    return {
      auth,
      verify: async (token) => (await jwtVerify(token, await hmacKey, { ...options, algorithms: ["HS256"] })).payload,
      outage: () => {},
    };
  }
  // jose caches the fetched keys inside the key set, so the identity provider is asked once, not
  // on every request.
  const keySet = createRemoteJWKSet(auth.jwksUrl);
  // While the JWKS cannot be fetched, each verification would try again: one fetch per request,
  // before any rate limit. A failure is remembered for JWKS_RETRY_SECONDS.
  let jwksDownUntil = 0;
  return {
    auth,
    async verify(token) {
      if (jwksDownUntil > Date.now()) throw jwksOutage();
      return (await jwtVerify(token, keySet, { ...options, algorithms: ASYMMETRIC_ALGORITHMS })).payload;
    },
    outage() {
      jwksDownUntil = Date.now() + JWKS_RETRY_SECONDS * 1000;
    },
  };
}

const MISSING: Record<string, Reason> = {
  exp: "token missing exp",
  sub: "token missing sub",
  iss: "token missing iss",
  aud: "token missing aud",
};

const MISMATCHED: Record<string, Reason> = { iss: "wrong issuer", aud: "wrong audience", nbf: "token not yet valid" };

/** A jose error as a reason, or null when the fault is ours or the identity provider's. */
function reasonFor(error: unknown): Reason | null {
  if (!(error instanceof errors.JOSEError)) return null;
  if (error instanceof errors.JWTClaimValidationFailed) {
    const table = error.reason === "missing" ? MISSING : error.reason === "check_failed" ? MISMATCHED : {};
    return table[error.claim] ?? "token claims invalid";
  }
  switch (error.code) {
    case errors.JWTExpired.code:
      return "token expired";
    case errors.JWSSignatureVerificationFailed.code:
      return "token signature invalid";
    case errors.JOSEAlgNotAllowed.code:
    case errors.JOSENotSupported.code:
      return "token algorithm not allowed";
    case errors.JWSInvalid.code:
    case errors.JWTInvalid.code:
      return "token malformed";
    case errors.JWKSNoMatchingKey.code:
    case errors.JWKSMultipleMatchingKeys.code:
      return "token signing key unknown";
    default:
      // JWKSTimeout, JWKSInvalid, a non-200 JWKS response: the identity provider, not the token.
      return null;
  }
}

/**
 * Whether the browser says the request comes from our own site or the user's own action. The
 * cookie is SameSite=Lax, which still rides along on a top-level navigation from any site: without
 * this a link on another site could start downloads (quota, audit) for a signed-in user. Browsers
 * send Sec-Fetch-Site on every request since 2020-2023 (Chrome 76, Firefox 90, Safari 16.4); a
 * request without it is an older browser or not a browser, where no other site can add the user's
 * cookie anyway, so it is let through.
 */
export function sameSiteRequest(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site === null || site === "same-origin" || site === "same-site" || site === "none";
}

export async function identifyUser(request: Request, verifier: AppTokenVerifier, options: { allowCookie: boolean }): Promise<AppUser> {
  const { auth } = verifier;
  // The header wins over the cookie; the cookie only where the route allows it (CSRF, docs/design.md).
  let token = bearerToken(request);
  if (token === null && options.allowCookie && auth.cookieName !== null) {
    token = cookie(request, auth.cookieName) || null;
    if (token !== null && !sameSiteRequest(request)) throw refused("cross-site cookie");
  }
  if (token === null) throw refused(null);
  if (token === "") throw refused("malformed authorization header");

  let claims: JWTPayload;
  try {
    claims = await verifier.verify(token);
  } catch (error) {
    if (error instanceof Problem) throw error;
    const reason = reasonFor(error);
    if (reason !== null) throw refused(reason);
    // Logged without the token. The identity provider's keys could not be had: an upstream
    // outage, not a bad token, so a retryable 503 (a 401 would make clients sign their users out).
    const { name, message } = error instanceof Error ? error : { name: "unknown", message: String(error) };
    console.error("identifyUser: token verification failed", { jwksUrl: auth.kind === "jwks" ? auth.jwksUrl.href : null, name, message });
    verifier.outage();
    throw jwksOutage();
  }

  const { sub } = claims;
  if (!isUserId(sub)) throw refused("token sub invalid");
  return { id: sub, claims };
}
