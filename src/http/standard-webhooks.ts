// Requests the gateway sends to the app's backend are signed the Standard Webhooks way
// (https://www.standardwebhooks.com/, spec/standard-webhooks.md): `webhook-id`,
// `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
// "<id>.<timestamp>.<body>">`, keyed by the bytes of a `whsec_` secret. Any of the spec's
// libraries (npm `standardwebhooks`, Svix's) verifies them, and so do ten lines of crypto.

/**
 * The three headers for `body`. `id` is the message's: the same on every delivery attempt of one
 * message, so that a receiver can drop a repeat; a fresh one by default.
 */
export type StandardWebhookSigner = (body: string, now: number, id?: string) => Promise<Record<string, string>>;

export function createStandardWebhookSigner(secret: Uint8Array): StandardWebhookSigner {
  const key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return async (body, now, id = `msg_${crypto.randomUUID().replaceAll("-", "")}`) => {
    const timestamp = String(Math.floor(now / 1000));
    const mac = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
    return {
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`,
    };
  };
}
