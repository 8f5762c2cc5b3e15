// WebCrypto exports RSA private keys only as PKCS#8, but Stream's `POST /stream/keys` hands out
// PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`, docs/stream-behaviour.md §3). PKCS#8's PrivateKeyInfo wraps
// the PKCS#1 RSAPrivateKey DER in an OCTET STRING (RFC 5208 §5), so unwrapping is enough.

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const OBJECT_IDENTIFIER = 0x06;
// 1.2.840.113549.1.1.1, DER-encoded.
const RSA_ENCRYPTION = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

type Element = { start: number; end: number };

export function pkcs8ToPkcs1Pem(pkcs8: ArrayBuffer): string {
  const der = new Uint8Array(pkcs8);
  const info = read(der, 0, SEQUENCE);
  if (info.end !== der.length) throw new Error("PKCS#8: trailing bytes after PrivateKeyInfo");
  const version = read(der, info.start, INTEGER);
  const algorithm = read(der, version.end, SEQUENCE);
  const oid = read(der, algorithm.start, OBJECT_IDENTIFIER);
  const oidBytes = der.subarray(oid.start, oid.end);
  const isRsa =
    oidBytes.length === RSA_ENCRYPTION.length &&
    oidBytes.every((byte, i) => byte === RSA_ENCRYPTION[i]);
  if (!isRsa) throw new Error("PKCS#8: not an rsaEncryption key");
  const privateKey = read(der, algorithm.end, OCTET_STRING);
  return pem("RSA PRIVATE KEY", der.subarray(privateKey.start, privateKey.end));
}

/** The inverse, for `POST /:uid/token` callers that bring Stream's PKCS#1 `pem` to sign with. */
export function pkcs1PemToPkcs8(pemText: string): ArrayBuffer {
  const body = pemText.replace(/-----(BEGIN|END) RSA PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  const pkcs1 = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  read(pkcs1, 0, SEQUENCE);
  const algorithm = tlv(SEQUENCE, [OBJECT_IDENTIFIER, RSA_ENCRYPTION.length, ...RSA_ENCRYPTION, 0x05, 0x00]);
  const info = tlv(SEQUENCE, [INTEGER, 1, 0, ...algorithm, ...tlv(OCTET_STRING, [...pkcs1])]);
  return new Uint8Array(info).buffer;
}

function tlv(tag: number, content: number[]): number[] {
  const length = content.length;
  if (length < 0x80) return [tag, length, ...content];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return [tag, 0x80 | bytes.length, ...bytes, ...content];
}

// One DER TLV at `offset`, which must carry `tag`. Only the low-tag-number, definite-length forms
// DER allows are accepted; lengths must stay inside the buffer.
function read(der: Uint8Array, offset: number, tag: number): Element {
  if (der[offset] !== tag) {
    throw new Error(`PKCS#8: expected tag 0x${tag.toString(16)} at ${offset}`);
  }
  let cursor = offset + 1;
  const first = der[cursor++];
  if (first === undefined) throw new Error("PKCS#8: truncated length");
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite length; more than 4 length bytes cannot fit a key in memory.
    if (count === 0 || count > 4) throw new Error("PKCS#8: unsupported length encoding");
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[cursor++];
      if (byte === undefined) throw new Error("PKCS#8: truncated length");
      length = length * 256 + byte;
    }
  }
  const end = cursor + length;
  if (end > der.length) throw new Error("PKCS#8: element runs past the end");
  return { start: cursor, end };
}

function pem(label: string, der: Uint8Array): string {
  const base64 = btoa(Array.from(der, (byte) => String.fromCharCode(byte)).join(""));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
