// Mints Stream download tokens locally with the account's signing key (docs/stream-behaviour.md §3,
// option B): no Stream API call per download, so minting never touches Stream's rate limit.
import { importJWK, SignJWT } from "jose";
import type { Config } from "../config/config";
import { MAX_TOKEN_TTL_SECONDS } from "../config/config";
import { misconfigured } from "../problems";
import type { AccessRule } from "./access-rules";

export interface MintRequest {
  video: string;
  ttlSeconds: number;
  /** unix s; e.g. a share link's expiry */
  notAfter?: number;
  accessRules?: AccessRule[];
  /** A token for the video's thumbnail (a share page's poster), which cannot download it. */
  view?: boolean;
  /** unix s, for tests */
  now?: number;
}

/** Stream checks `nbf` without tolerance; a minute of slack absorbs clock skew between us and Stream. */
const NBF_SKEW_SECONDS = 60;
/** Stream refuses tokens with more rules (docs/stream-behaviour.md §3). */
const MAX_ACCESS_RULES = 5;

/** When a grant minted at `now` (unix s) ends: its TTL, capped by `notAfter` and Stream's 24 h. */
export function grantExpiry(now: number, ttlSeconds: number, notAfter?: number): number {
  return Math.floor(Math.min(now + ttlSeconds, notAfter ?? Infinity, now + MAX_TOKEN_TTL_SECONDS));
}

export async function mintDownloadToken(signer: Signer, request: MintRequest): Promise<{ token: string; expiresAt: number }> {
  const now = request.now ?? Math.floor(Date.now() / 1000);
  const expiresAt = grantExpiry(now, request.ttlSeconds, request.notAfter);
  // An already expired token would only surface later as Stream's 401; the caller (e.g. a share
  // link in its last second) must have refused before minting.
  if (!(expiresAt > now)) throw new Error("mintDownloadToken: the token would expire before it is used");
  const rules = request.accessRules ?? [];
  if (rules.length > MAX_ACCESS_RULES) throw new Error(`mintDownloadToken: Stream allows at most ${MAX_ACCESS_RULES} access rules`);

  const claims: Record<string, unknown> = request.view ? { kid: signer.keyId } : { kid: signer.keyId, downloadable: true };
  // An empty accessRules claim is pointless; leaving it out keeps the token Stream's default.
  if (rules.length > 0) claims.accessRules = rules;

  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: signer.keyId })
    .setSubject(request.video)
    .setNotBefore(now - NBF_SKEW_SECONDS)
    .setExpirationTime(expiresAt)
    .sign(await signer.key());
  return { token, expiresAt };
}

/** The Stream signing key: its id, and the key itself, imported on first use. */
export interface Signer {
  keyId: string;
  key(): Promise<CryptoKey>;
}

/** Built once per configuration (gateway/gateway.ts): the key is imported once, never per request. */
export function createSigner(stream: Config["stream"]): Signer {
  let key: Promise<CryptoKey> | undefined;
  return { keyId: stream.keyId, key: () => (key ??= importSigningKey(stream.keyJwk)) };
}

async function importSigningKey(jwk: JsonWebKey): Promise<CryptoKey> {
  try {
    // jose imports a private JWK as non-extractable: the key material cannot be read back out.
    return await importJWK({ ...jwk, kty: "RSA" }, "RS256");
  } catch {
    // The underlying error is dropped on purpose: it must never carry key material into a log.
    throw misconfigured("STREAM_KEY_JWK", "STREAM_KEY_JWK cannot be imported as an RS256 signing key");
  }
}
