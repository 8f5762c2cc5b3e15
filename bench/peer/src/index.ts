// The bench's peer: what Cloudflare's Stream docs show for minting a signed token in a Worker
// (docs/stream-behaviour.md §3, "Docs' Workers example"), answering with the same 302 as the gateway.
// Every request decodes the base64 JWK, imports it and signs; nothing is cached or checked, so
// the gateway's cost of identify → entitle → ensure → mint is seen against the bare signature.

interface PeerEnv {
  STREAM_KEY_ID: string;
  STREAM_KEY_JWK: string;
  DELIVERY_BASE: string;
}

const TOKEN_TTL_SECONDS = 3600;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=/g, "").replace(/\+/g, "-").replace(/\//g, "_");
}

const encodeJson = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));

async function signedToken(env: PeerEnv, video: string): Promise<string> {
  const header = { alg: "RS256", kid: env.STREAM_KEY_ID };
  const payload = { sub: video, kid: env.STREAM_KEY_ID, exp: Math.floor(Date.now() / 1000) + TOKEN_TTL_SECONDS, downloadable: true };
  const unsigned = `${encodeJson(header)}.${encodeJson(payload)}`;
  const jwk = JSON.parse(atob(env.STREAM_KEY_JWK)) as JsonWebKey;
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, key, new TextEncoder().encode(unsigned));
  return `${unsigned}.${base64url(new Uint8Array(signature))}`;
}

export default {
  async fetch(request: Request, env: PeerEnv): Promise<Response> {
    const video = new URL(request.url).pathname.split("/")[1] ?? "";
    const token = await signedToken(env, video);
    return Response.redirect(`${env.DELIVERY_BASE}/${token}/downloads/default.mp4`, 302);
  },
} satisfies ExportedHandler<PeerEnv>;
