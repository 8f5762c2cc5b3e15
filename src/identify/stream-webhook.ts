// Stream's webhook signature (docs/http-api.md › Stream webhooks): `Webhook-Signature: time=<unix>,sig1=<hex>`,
// where sig1 is HMAC-SHA256 keyed with the subscription's secret over `<time>.<raw body bytes>`.

/** Stream documents no tolerance; 5 minutes each way covers clock skew and slow delivery. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureFailure = "missing" | "malformed" | "stale" | "mismatch";
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

interface SignatureHeader {
  /** As sent: the MAC covers these exact characters. */
  time: string;
  sig1: Uint8Array<ArrayBuffer>;
}

/**
 * Split on "," and then on the first "=", as Stream's docs say. Unknown keys are ignored (room for
 * a future `sig2`); a repeated `time` or `sig1` is malformed, so that no value can be smuggled in
 * beside the one that is checked.
 */
function parseSignatureHeader(header: string): SignatureHeader | null {
  const fields = new Map<string, string>();
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    if (at < 0) return null;
    const key = part.slice(0, at).trim();
    if (fields.has(key)) return null;
    fields.set(key, part.slice(at + 1).trim());
  }
  const time = fields.get("time");
  const sig1 = fields.get("sig1");
  if (time === undefined || sig1 === undefined || !/^\d{1,12}$/.test(time) || !/^[0-9a-fA-F]{64}$/.test(sig1)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(sig1.slice(i * 2, i * 2 + 2), 16);
  return { time, sig1: bytes };
}

/** The subscription secret as an HMAC key, imported on first use; built once per configuration (gateway/gateway.ts). */
export type WebhookKey = () => Promise<CryptoKey>;

export function createWebhookKey(secret: string): WebhookKey {
  let key: Promise<CryptoKey> | undefined;
  return () =>
    (key ??= crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]));
}

/**
 * Checks the header against the raw body bytes (never a re-serialised JSON: any change of
 * whitespace or key order would break the MAC). `crypto.subtle.verify` compares the MACs in
 * constant time.
 */
export async function verifyWebhookSignature(
  key: WebhookKey,
  header: string | null,
  rawBody: Uint8Array<ArrayBuffer>,
  nowMs: number,
): Promise<SignatureCheck> {
  if (header === null || header.trim() === "") return { ok: false, reason: "missing" };
  const parsed = parseSignatureHeader(header);
  if (parsed === null) return { ok: false, reason: "malformed" };
  if (Math.abs(nowMs / 1000 - Number(parsed.time)) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };

  const prefix = new TextEncoder().encode(`${parsed.time}.`);
  const signed = new Uint8Array(prefix.length + rawBody.length);
  signed.set(prefix);
  signed.set(rawBody, prefix.length);
  const valid = await crypto.subtle.verify("HMAC", await key(), parsed.sig1, signed);
  return valid ? { ok: true } : { ok: false, reason: "mismatch" };
}
