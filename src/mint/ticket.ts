// Grant tickets: the URL a stream-mode or IP-locked grant ends at (`/d/<ticket>`). The granting request took
// the use, the quota and the audit row; the ticket lets the same client fetch and resume the file
// (Range, If-Range) for the grant's lifetime with no new use, as Stream's tokenized URL does in
// redirect mode. It is not a Stream token: handing one out would let a client fetch from Stream
// directly and skip the gateway's own checks (stream mode's tokens carry no access rules).
//
// Signed with HS256 under a key derived (HKDF) from the Stream signing key's private part, so it
// needs no setting of its own, cannot be forged without that key, and a key rotation ends every
// ticket with the tokens the old key signed.
import { SignJWT, base64url, jwtVerify } from "jose";
import type { Config } from "../config/config";
import type { DownloadType } from "../config/config";

export interface Ticket {
  /** Random; names the grant in its share link's object, and the ticket's pinned second network (routes/tickets.ts). */
  id: string;
  /** The public id of the share link the grant came through, whose object admits each fetch; null for a signed-in user's grant. */
  link: string | null;
  /** Unix seconds. */
  issuedAt: number;
  video: string;
  type: DownloadType;
  /** Unix seconds. */
  expiresAt: number;
  /** The network an IP-locked grant is bound to (IPv4 /32, IPv6 /64), or null. */
  network: string | null;
  /** The countries the grant was limited to, checked again on every fetch (as Stream does for a token's rules). */
  countries: { allow: ReadonlySet<string> | null; block: ReadonlySet<string> | null };
  /** The name to save the file under, or null for the UID. */
  name: string | null;
}

const list = (codes: ReadonlySet<string> | null) => (codes === null ? null : [...codes]);
const codes = (value: unknown): ReadonlySet<string> | null =>
  Array.isArray(value) && value.every((c) => typeof c === "string") ? new Set(value as string[]) : null;

const AUDIENCE = "stream-download-gateway:grant-ticket";
const HKDF_INFO = new TextEncoder().encode("stream-download-gateway grant ticket v1");

/** The tickets' HMAC key, derived on first use; built once per configuration (gateway/gateway.ts). */
export type TicketKey = () => Promise<CryptoKey>;

export function createTicketKey(stream: Config["stream"]): TicketKey {
  let key: Promise<CryptoKey> | undefined;
  return () => (key ??= deriveKey(stream.keyJwk));
}

async function deriveKey(jwk: JsonWebKey): Promise<CryptoKey> {
  // `d` is present: config/config.ts refuses a JWK without its private parts.
  const secret = await crypto.subtle.importKey("raw", base64url.decode(jwk.d ?? ""), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: HKDF_INFO },
    secret,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

export async function issueTicket(key: TicketKey, t: Ticket): Promise<string> {
  return new SignJWT({ typ: t.type, lnk: t.link, net: t.network, fn: t.name, ca: list(t.countries.allow), cb: list(t.countries.block) })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(t.video)
    .setJti(t.id)
    .setIssuedAt(t.issuedAt)
    .setAudience(AUDIENCE)
    .setExpirationTime(t.expiresAt)
    .sign(await key());
}

/** The ticket, or null when it is not one of ours, was altered or has expired. */
export async function readTicket(key: TicketKey, token: string, now: number): Promise<Ticket | null> {
  try {
    const { payload } = await jwtVerify(token, await key(), {
      algorithms: ["HS256"],
      audience: AUDIENCE,
      requiredClaims: ["exp", "sub", "jti", "iat"],
      currentDate: new Date(now),
    });
    const { sub, exp, iat, jti, typ, lnk, net, fn, ca, cb } = payload;
    if (typeof sub !== "string" || typeof exp !== "number" || typeof iat !== "number" || typeof jti !== "string") return null;
    if (typ !== "default" && typ !== "audio") return null;
    return {
      id: jti,
      link: typeof lnk === "string" ? lnk : null,
      issuedAt: iat,
      video: sub,
      type: typ,
      expiresAt: exp,
      network: typeof net === "string" ? net : null,
      countries: { allow: codes(ca), block: codes(cb) },
      name: typeof fn === "string" ? fn : null,
    };
  } catch {
    return null;
  }
}
