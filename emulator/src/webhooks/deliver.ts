// Stream's webhook call: POST the video object, signed as docs/stream-behaviour.md §4 describes.
import type { WebhookSubscription } from "../store";

export interface WebhookDelivery {
  at: string;
  video: string;
  url: string;
  signature: string;
  body: string;
  status: number | null;
  error: string | null;
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `time=<unix>,sig1=<hex HMAC-SHA256(secret, "<time>.<raw body>")>` */
export async function signWebhook(secret: string, body: string, time: number): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = await crypto.subtle.sign("HMAC", key, encoder.encode(`${time}.${body}`));
  return `time=${time},sig1=${hex(sig)}`;
}

export async function deliverWebhook(
  subscription: WebhookSubscription,
  video: { uid: string },
  send: (request: Request) => Promise<Response>,
  now: number,
): Promise<WebhookDelivery> {
  const body = JSON.stringify(video);
  const signature = await signWebhook(subscription.secret, body, Math.floor(now / 1000));
  const delivery: WebhookDelivery = {
    at: new Date(now).toISOString(),
    video: video.uid,
    url: subscription.notificationUrl,
    signature,
    body,
    status: null,
    error: null,
  };
  try {
    const response = await send(
      new Request(subscription.notificationUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "webhook-signature": signature },
        body,
      }),
    );
    delivery.status = response.status;
    await response.body?.cancel();
  } catch (error) {
    delivery.error = error instanceof Error ? error.message : String(error);
  }
  return delivery;
}
