import { describe, expect, test } from "vitest";
import { pkcs8ToPkcs1Pem } from "../../../emulator/src/keys/pkcs1";

async function generatePair(algorithm: SubtleCryptoGenerateKeyAlgorithm): Promise<CryptoKeyPair> {
  const pair = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  if (!("privateKey" in pair)) throw new Error("expected a key pair");
  return pair;
}

async function exportPkcs8(key: CryptoKey): Promise<ArrayBuffer> {
  const exported = await crypto.subtle.exportKey("pkcs8", key);
  if (!(exported instanceof ArrayBuffer)) throw new Error("expected DER bytes");
  return exported;
}

function pemBody(pem: string): Uint8Array {
  const base64 = pem.split("\n").filter((line) => !line.startsWith("-----")).join("");
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

function base64url(bytes: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...bytes));
  return base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// An independent reader for the test: SEQUENCE { INTEGER version, INTEGER n, INTEGER e, ... }.
function rsaPrivateKeyIntegers(der: Uint8Array): Uint8Array[] {
  let offset = 0;
  // Reads one TLV header and leaves `offset` at the start of its content.
  function next(): { tag: number; body: Uint8Array } {
    const tag = der[offset++] ?? -1;
    let length = der[offset++] ?? 0;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (der[offset++] ?? 0);
    }
    const body = der.subarray(offset, offset + length);
    return { tag, body };
  }
  const outer = next();
  expect(outer.tag).toBe(0x30);
  expect(offset + outer.body.length).toBe(der.length);
  const integers: Uint8Array[] = [];
  while (offset < der.length) {
    const element = next();
    expect(element.tag).toBe(0x02);
    offset += element.body.length;
    // DER prefixes a 0x00 to positive integers whose top bit is set; JWK does not.
    const padded = element.body[0] === 0 && element.body.length > 1;
    integers.push(padded ? element.body.subarray(1) : element.body);
  }
  return integers;
}

describe("pkcs8ToPkcs1Pem", () => {
  test("turns a WebCrypto RSA key into a PKCS#1 PEM with the same n and e", async () => {
    const pair = await generatePair({
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    });
    const pem = pkcs8ToPkcs1Pem(await exportPkcs8(pair.privateKey));

    const lines = pem.split("\n");
    expect(lines[0]).toBe("-----BEGIN RSA PRIVATE KEY-----");
    expect(lines.at(-2)).toBe("-----END RSA PRIVATE KEY-----");
    expect(lines.at(-1)).toBe("");
    const body = lines.slice(1, -2);
    expect(body.slice(0, -1).every((line) => line.length === 64)).toBe(true);
    expect(body.at(-1)?.length).toBeGreaterThan(0);
    expect(body.at(-1)?.length).toBeLessThanOrEqual(64);

    const [version, n, e, ...rest] = rsaPrivateKeyIntegers(pemBody(pem));
    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    expect(version).toEqual(new Uint8Array([0]));
    expect(base64url(n ?? new Uint8Array())).toBe(jwk.n);
    expect(base64url(e ?? new Uint8Array())).toBe(jwk.e);
    expect(rest).toHaveLength(6);
  });

  test("refuses a PKCS#8 key that is not RSA", async () => {
    const pair = await generatePair({ name: "ECDSA", namedCurve: "P-256" });
    const pkcs8 = await exportPkcs8(pair.privateKey);
    expect(() => pkcs8ToPkcs1Pem(pkcs8)).toThrow("not an rsaEncryption key");
  });

  test("refuses bytes that are not DER", () => {
    expect(() => pkcs8ToPkcs1Pem(new Uint8Array([0x30, 0x82, 0xff]).buffer)).toThrow("PKCS#8");
    expect(() => pkcs8ToPkcs1Pem(new ArrayBuffer(0))).toThrow("PKCS#8");
  });
});
