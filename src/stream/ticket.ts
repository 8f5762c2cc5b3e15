// Grant tickets: the URL a stream-mode grant ends at (`/d/<ticket>`). The granting request took
// the use, the quota and the audit row; the ticket lets the same client fetch and resume the file
// (Range, If-Range) for the grant's lifetime with no new use, as Stream's tokenized URL does in
// redirect mode. It is not a Stream token: handing one out would let a client fetch from Stream
// directly and skip the gateway's own checks (stream mode's tokens carry no access rules).
//
// Signed with HS256 under a key derived (HKDF) from the Stream signing key's private part, so it
// needs no setting of its own, cannot be forged without that key, and a key rotation ends every
// ticket with the tokens the old key signed.
import { SignJWT, base64url, jwtVerify } from "jose";
import type { Config } from "../config";
import type { DownloadType } from "./client";

export interface Ticket {
  video: string;
  type: DownloadType;
  /** Unix seconds. */
  expiresAt: number;
  /** The network an IP-locked grant is bound to (IPv4 /32, IPv6 /64), or null. */
  network: string | null;
  /** The name to save the file under, or null for the UID. */
  name: string | null;
}

const AUDIENCE = "stream-download-gateway:grant-ticket";
const HKDF_INFO = new TextEncoder().encode("stream-download-gateway grant ticket v1");

const keys = new WeakMap<Config["stream"], Promise<CryptoKey>>();

function ticketKey(stream: Config["stream"]): Promise<CryptoKey> {
  let key = keys.get(stream);
  if (key === undefined) {
    key = deriveKey(stream.keyJwk);
    keys.set(stream, key);
  }
  return key;
}

async function deriveKey(jwk: JsonWebKey): Promise<CryptoKey> {
  // `d` is present: config.ts refuses a JWK without its private parts.
  const secret = await crypto.subtle.importKey("raw", base64url.decode(jwk.d ?? ""), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: HKDF_INFO },
    secret,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

export async function issueTicket(stream: Config["stream"], t: Ticket): Promise<string> {
  return new SignJWT({ typ: t.type, net: t.network, fn: t.name })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(t.video)
    .setAudience(AUDIENCE)
    .setExpirationTime(t.expiresAt)
    .sign(await ticketKey(stream));
}

/** The ticket, or null when it is not one of ours, was altered or has expired. */
export async function readTicket(stream: Config["stream"], token: string, now: number): Promise<Ticket | null> {
  try {
    const { payload } = await jwtVerify(token, await ticketKey(stream), {
      algorithms: ["HS256"],
      audience: AUDIENCE,
      requiredClaims: ["exp", "sub"],
      currentDate: new Date(now),
    });
    const { sub, exp, typ, net, fn } = payload;
    if (typeof sub !== "string" || typeof exp !== "number" || (typ !== "default" && typ !== "audio")) return null;
    return {
      video: sub,
      type: typ,
      expiresAt: exp,
      network: typeof net === "string" ? net : null,
      name: typeof fn === "string" ? fn : null,
    };
  } catch {
    return null;
  }
}
