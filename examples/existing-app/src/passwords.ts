// Password hashes: PBKDF2-SHA256 through WebCrypto, stored as pbkdf2-sha256$<iterations>$<salt>$<hash>
// (base64). 100,000 iterations is the most the Workers runtime allows.
const ITERATIONS = 100_000;
const PREFIX = "pbkdf2-sha256";

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
}

/** A new password's hash: for sign-up (not part of this example) and the tests' customers. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `${PREFIX}$${ITERATIONS}$${toBase64(salt)}$${toBase64(await derive(password, salt, ITERATIONS))}`;
}

// Checked against when the email is unknown, so that a wrong email costs as long as a wrong
// password and the answer's timing does not tell which accounts exist.
const NOBODY = "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const [prefix, iterations, salt, hash] = (stored ?? NOBODY).split("$");
  if (prefix !== PREFIX || !iterations || !salt || !hash) return false;
  const expected = fromBase64(hash);
  const derived = await derive(password, fromBase64(salt), Number(iterations));
  return stored !== null && derived.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(derived, expected);
}
