// Signed-URL token verification at the delivery host, as docs/stream-behaviour.md §3 describes it. The
// status codes Stream's edge uses are not documented: invalid tokens get 401, valid tokens that
// do not permit this request get 403, each with the reason in the body.
import { decodeProtectedHeader, errors, importJWK, jwtVerify, type JWTPayload } from "jose";
import type { Emulator } from "../emulator";
import { parseAccessRules, type AccessRule } from "./access-rules";

const DAY_SECONDS = 24 * 60 * 60;
const UID = /^[0-9a-f]{32}$/;

export type TokenVerdict =
  | { ok: true; video: string; downloadable: boolean; accessRules: AccessRule[] }
  | { ok: false; status: 401; reason: string };

const keyCache = new Map<string, CryptoKey>();

async function publicKey(emulator: Emulator, kid: string): Promise<CryptoKey | string> {
  const key = Object.hasOwn(emulator.state.keys, kid) ? emulator.state.keys[kid] : undefined;
  const platform = emulator.state.platformKey?.id === kid ? emulator.state.platformKey : undefined;
  if (key?.revoked) return "the signing key has been revoked";
  const jwk = key?.publicJwk ?? (platform ? { kty: "RSA", n: platform.privateJwk.n, e: platform.privateJwk.e } : null);
  if (!jwk) return "the token's kid names no signing key of this account";
  const cached = keyCache.get(`${kid}:${jwk.n}`);
  if (cached) return cached;
  const imported = (await importJWK(jwk, "RS256")) as CryptoKey;
  keyCache.set(`${kid}:${jwk.n}`, imported);
  return imported;
}

function reject(reason: string): TokenVerdict {
  return { ok: false, status: 401, reason };
}

export async function verifyToken(emulator: Emulator, token: string): Promise<TokenVerdict> {
  let kid: unknown;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== "RS256") return reject("the token must be signed with RS256");
    kid = header.kid;
  } catch {
    return reject("the token is not a JWT");
  }
  if (typeof kid !== "string") return reject("the token header has no kid");
  const key = await publicKey(emulator, kid);
  if (typeof key === "string") return reject(key);

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms: ["RS256"],
      currentDate: new Date(emulator.now()),
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return reject("the token has expired");
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf") {
      return reject("the token is not valid yet (nbf)");
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) return reject("the token signature is invalid");
    return reject("the token is malformed");
  }

  const now = Math.floor(emulator.now() / 1000);
  if (typeof claims.exp !== "number") return reject("the token has no numeric exp");
  if (claims.exp > now + DAY_SECONDS) return reject("the token's exp is more than 24 hours ahead");
  if (claims.kid !== undefined && claims.kid !== kid) return reject("the token's kid claim does not match its header");
  if (typeof claims.sub !== "string" || !UID.test(claims.sub) || !emulator.video(claims.sub)) {
    return reject("the token's sub names no video of this account");
  }
  const rules = parseAccessRules(claims.accessRules);
  if (!rules.ok) return reject(`the token's accessRules are invalid: ${rules.reason}`);
  return { ok: true, video: claims.sub, downloadable: claims.downloadable === true, accessRules: rules.rules };
}
