// A share link has two names. Its secret (192 random bits, base64url) is in its URL and is the
// capability: whoever holds it may use the link. Its public id names it everywhere else (the
// owner API, events, logs, the audit trail, kept event failures) and grants nothing: it is a
// digest of the secret, so the gateway finds the link's object from the URL with no lookup, and
// the id cannot be turned back into the secret. The D1 row's key is a third digest, never shown,
// so that code from before public ids (which looked a row up by the URL's value) finds neither.
import { base64url } from "jose";

const SECRET_BYTES = 24;
const DIGEST_BYTES = 16;


export function newLinkSecret(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

async function digest(purpose: string, secret: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`stream-download-gateway share link ${purpose}:${secret}`));
  return base64url.encode(new Uint8Array(hash, 0, DIGEST_BYTES));
}

/** The names a link's secret gives it: its public id, and its D1 row's key. */
export interface LinkNames {
  secret: string;
  publicId: string;
  rowKey: string;
}

export async function linkNames(secret: string): Promise<LinkNames> {
  const [publicId, rowKey] = await Promise.all([digest("id", secret), digest("row", secret)]);
  return { secret, publicId, rowKey };
}

/** A secret's length in base64url characters; a public id is 22. */
export const SECRET_LENGTH = 32;

/** Whether `value` has a secret's shape. */
export const isLinkSecret = (value: string): boolean => value.length >= SECRET_LENGTH;

/** How a log line names a URL's secret: too little of it to use. */
export const secretRef = (secret: string): string => `${secret.slice(0, 4)}…`;
