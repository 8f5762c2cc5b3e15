import { env } from "cloudflare:test";
import { describe, expect, test, vi } from "vitest";
import { MAX_TOKEN_TTL_SECONDS, parseConfig } from "../../src/config/config";
import { DELIVERIES } from "../../src/deliver/modes";
import { Problem } from "../../src/problems";
import { type AccessRule, decideAccess } from "../../src/mint/access-rules";
import { createSigner, mintDownloadToken } from "../../src/mint/token";
import { readyVideo } from "../helpers";

const stream = parseConfig(env, DELIVERIES).stream;
const signer = createSigner(stream);
const VIDEO = "c0ffee00000000000000000000000001";
const NOW = 1_900_000_000;

// Decoding and verification below use WebCrypto and plain base64url on purpose: a second JWT
// implementation, so that a jose bug or a misuse of jose cannot pass its own check.
function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header = "", claims = ""] = token.split(".");
  const json = (part: string) => JSON.parse(new TextDecoder().decode(base64urlBytes(part))) as Record<string, unknown>;
  return { header: json(header), claims: json(claims) };
}

async function signatureValid(token: string, jwk: JsonWebKey): Promise<boolean> {
  const [header = "", claims = "", signature = ""] = token.split(".");
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: jwk.n, e: jwk.e },
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const data = new TextEncoder().encode(`${header}.${claims}`);
  return crypto.subtle.verify("RSASSA-PKCS1-v1_5", publicKey, base64urlBytes(signature), data);
}

describe("mintDownloadToken", () => {
  test("signs an RS256 token with Stream's header and claims", async () => {
    const { token, expiresAt } = await mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 3600, now: NOW });
    const { header, claims } = decode(token);
    expect(header).toEqual({ alg: "RS256", kid: stream.keyId });
    expect(claims).toEqual({
      sub: VIDEO,
      kid: stream.keyId,
      exp: NOW + 3600,
      nbf: NOW - 60,
      downloadable: true,
    });
    expect(expiresAt).toBe(NOW + 3600);
  });

  test("the signature verifies with the public half of the key, and not after tampering", async () => {
    const { token } = await mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 600 });
    expect(await signatureValid(token, stream.keyJwk)).toBe(true);
    const [header, , signature] = token.split(".");
    const forged = btoa(JSON.stringify({ sub: VIDEO, kid: stream.keyId, exp: NOW, downloadable: true })).replace(/=+$/, "");
    expect(await signatureValid(`${header}.${forged}.${signature}`, stream.keyJwk)).toBe(false);
  });

  test("exp stops at a share link's expiry", async () => {
    const { token, expiresAt } = await mintDownloadToken(signer, {
      video: VIDEO,
      ttlSeconds: 3600,
      notAfter: NOW + 90,
      now: NOW,
    });
    expect(expiresAt).toBe(NOW + 90);
    expect(decode(token).claims.exp).toBe(NOW + 90);
  });

  test("exp never exceeds 86100 s, 5 minutes under Stream's 24 h cap", async () => {
    const { token, expiresAt } = await mintDownloadToken(signer, {
      video: VIDEO,
      ttlSeconds: 7 * 86_400,
      notAfter: NOW + 30 * 86_400,
      now: NOW,
    });
    expect(MAX_TOKEN_TTL_SECONDS).toBe(86_100);
    expect(expiresAt).toBe(NOW + 86_100);
    expect(decode(token).claims.exp).toBe(NOW + 86_100);
  });

  test("refuses to mint a token that is already expired", async () => {
    await expect(
      mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 3600, notAfter: NOW, now: NOW }),
    ).rejects.toThrow(/expire/);
  });

  test("carries accessRules only when there are some", async () => {
    const none = await mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 60, accessRules: [], now: NOW });
    expect(decode(none.token).claims).not.toHaveProperty("accessRules");
    const rules = decideAccess({
      allowedCountries: new Set(["GB"]),
      blockedCountries: null,
      lockToIp: false,
      clientIp: null,
      throughGateway: false,
    }).rules;
    const some = await mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 60, accessRules: rules, now: NOW });
    expect(decode(some.token).claims.accessRules).toEqual(rules);
  });

  test("imports the signing key once per signer (built once per configuration), not per token", async () => {
    await mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 60 });
    // jose's importJWK ends in WebCrypto's importKey; signing does not call it.
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    try {
      await Promise.all(Array.from({ length: 20 }, () => mintDownloadToken(signer, { video: VIDEO, ttlSeconds: 60 })));
      expect(importKey).not.toHaveBeenCalled();
    } finally {
      importKey.mockRestore();
    }
  });

  test("a key that cannot be imported is a misconfiguration whose message holds no key material", async () => {
    const broken = { ...stream, keyJwk: { ...stream.keyJwk, n: "!!broken*modulus!!", d: "!!not*base64url!!" } };
    const error: unknown = await mintDownloadToken(createSigner(broken), { video: VIDEO, ttlSeconds: 60 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Problem);
    const problem = error as Problem;
    expect(problem.type).toBe("misconfigured");
    const text = `${problem.message} ${problem.detail} ${JSON.stringify(problem.options)} ${String(problem.cause)}`;
    for (const part of [stream.keyJwk.d, stream.keyJwk.p, stream.keyJwk.q, "!!broken*modulus!!", "!!not*base64url!!"]) {
      expect(text).not.toContain(part);
    }
  });
});

describe("a minted token at the emulator's delivery host", () => {
  function download(token: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${stream.deliveryBase}/${token}/downloads/default.mp4`, { headers });
  }

  test("downloads the MP4", async () => {
    const { token } = await mintDownloadToken(signer, { video: await readyVideo(), ttlSeconds: 300 });
    const res = await download(token);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(4, 8))).toBe("ftyp");
  });

  test("country rules admit an allowed country and refuse the others", async () => {
    const { rules } = decideAccess({
      allowedCountries: new Set(["GB", "FR"]),
      blockedCountries: new Set(["FR"]),
      lockToIp: false,
      clientIp: null,
      throughGateway: false,
    });
    const { token } = await mintDownloadToken(signer, { video: await readyVideo(), ttlSeconds: 300, accessRules: rules });
    const fromUs = await download(token, { "CF-IPCountry": "US" });
    expect(fromUs.status).toBe(403);
    await fromUs.body?.cancel();
    const fromFr = await download(token, { "CF-IPCountry": "FR" });
    expect(fromFr.status).toBe(403);
    await fromFr.body?.cancel();
    const fromGb = await download(token, { "CF-IPCountry": "GB" });
    expect(fromGb.status).toBe(200);
    await fromGb.body?.cancel();
  });

  test("why an IP lock is not an ip.src rule: a token allowing the client's IPv6 /64 is refused when the same client reaches Stream over IPv4", async () => {
    const rules = [
      { type: "ip.src", action: "allow", ip: ["2001:db8:1:2::/64"] },
      { type: "any", action: "block" },
    ] as unknown as AccessRule[];
    const { token } = await mintDownloadToken(signer, { video: await readyVideo(), ttlSeconds: 300, accessRules: rules });
    const sameFamily = await download(token, { "CF-Connecting-IP": "2001:db8:1:2:ffff::9" });
    expect(sameFamily.status).toBe(200);
    await sameFamily.body?.cancel();
    const otherFamily = await download(token, { "CF-Connecting-IP": "203.0.113.7" });
    expect(otherFamily.status).toBe(403);
    await otherFamily.body?.cancel();
    // So the gateway never mints one: an IP lock sends the grant through its own /d/<ticket>.
    expect(decideAccess({ allowedCountries: null, blockedCountries: null, lockToIp: true, clientIp: "2001:db8:1:2::1", throughGateway: false }).rules).toEqual([]);
  });

  test.each([60, MAX_TOKEN_TTL_SECONDS, 7 * 86_400])(
    "a token minted just now with a %i s lifetime passes Stream's nbf and 24 h checks",
    async (ttlSeconds) => {
      const { token } = await mintDownloadToken(signer, { video: await readyVideo(), ttlSeconds });
      const res = await download(token);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    },
  );
});
