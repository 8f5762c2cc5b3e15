// Mints Stream download tokens locally with the account's signing key (stream-facts.md §3,
// option B): no Stream API call per download, so minting never touches Stream's rate limit.
import { importJWK, SignJWT } from "jose";
import type { Config } from "../config";
import { MAX_TOKEN_TTL_SECONDS } from "../config";
import { Problem } from "../problems";
import type { AccessRule } from "./access-rules";

export interface MintRequest {
  video: string;
  ttlSeconds: number;
  /** unix s; e.g. a share link's expiry */
  notAfter?: number;
  accessRules?: AccessRule[];
  /** unix s, for tests */
  now?: number;
}

/** Stream checks `nbf` without tolerance; a minute of slack absorbs clock skew between us and Stream. */
const NBF_SKEW_SECONDS = 60;
/** Stream refuses tokens with more rules (stream-facts.md §3). */
const MAX_ACCESS_RULES = 5;

export async function mintDownloadToken(
  stream: Config["stream"],
  request: MintRequest,
): Promise<{ token: string; expiresAt: number }> {
  const now = request.now ?? Math.floor(Date.now() / 1000);
  const expiresAt = Math.floor(
    Math.min(now + request.ttlSeconds, request.notAfter ?? Infinity, now + MAX_TOKEN_TTL_SECONDS),
  );
  // An already expired token would only surface later as Stream's 401; the caller (e.g. an
  // expired share link) must have answered before minting.
  if (!(expiresAt > now)) throw new Error("mintDownloadToken: the token would expire before it is used");
  const rules = request.accessRules ?? [];
  if (rules.length > MAX_ACCESS_RULES) throw new Error(`mintDownloadToken: Stream allows at most ${MAX_ACCESS_RULES} access rules`);

  const claims: Record<string, unknown> = { kid: stream.keyId, downloadable: true };
  // An empty accessRules claim is pointless; leaving it out keeps the token Stream's default.
  if (rules.length > 0) claims.accessRules = rules;

  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: stream.keyId })
    .setSubject(request.video)
    .setNotBefore(now - NBF_SKEW_SECONDS)
    .setExpirationTime(expiresAt)
    .sign(await signingKey(stream.keyJwk));
  return { token, expiresAt };
}

// Importing an RSA key costs far more than signing with it, so it happens once per isolate. The
// cache is keyed by the modulus: a rotated key (new secret, same isolate in tests) is imported
// afresh, and only one key is held at a time.
let cached: { modulus: string; key: Promise<CryptoKey> } | null = null;

function signingKey(jwk: JsonWebKey): Promise<CryptoKey> {
  const modulus = jwk.n ?? "";
  if (cached === null || cached.modulus !== modulus) {
    cached = { modulus, key: importSigningKey(jwk) };
  }
  return cached.key;
}

async function importSigningKey(jwk: JsonWebKey): Promise<CryptoKey> {
  try {
    // jose imports a private JWK as non-extractable: the key material cannot be read back out.
    return await importJWK({ ...jwk, kty: "RSA" }, "RS256");
  } catch {
    // The underlying error is dropped on purpose: it must never carry key material into a log.
    throw new Problem("misconfigured", "STREAM_KEY_JWK cannot be imported as an RS256 signing key", {
      extensions: { setting: "STREAM_KEY_JWK" },
    });
  }
}
