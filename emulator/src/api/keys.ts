import { Hono } from "hono";
import { badRequest, noRoute, ok } from "../envelope";
import type { Emulator } from "../emulator";
import { pkcs8ToPkcs1Pem } from "../keys/pkcs1";
import { randomHex } from "../videos";
import { apiPath, guarded } from "./guard";

/** Stream allows up to 1,000 signing keys per account (docs/stream-behaviour.md §3). */
const MAX_KEYS = 1000;

export const RSA_KEY_PARAMS = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
} as const;

export function keyRoutes(emulator: Emulator): Hono {
  const api = new Hono();
  const live = () => Object.values(emulator.state.keys).filter((k) => !k.revoked);

  api.post(
    "/",
    guarded(emulator, "keys.create", async () => {
      if (live().length >= MAX_KEYS) return badRequest(`an account can hold at most ${MAX_KEYS} signing keys`);
      const pair = (await crypto.subtle.generateKey(RSA_KEY_PARAMS, true, ["sign", "verify"])) as CryptoKeyPair;
      const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
      const pkcs8 = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
      const id = randomHex(16);
      const now = emulator.now();
      emulator.state.keys[id] = { id, created: now, publicJwk: { kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256" }, revoked: false };
      await emulator.save();
      // Field order and base64 wrapping as in Stream's documented example (docs/stream-behaviour.md §3);
      // the private parts are shown this once and never stored.
      const { n, e, d, p, q, dp, dq, qi } = jwk;
      const kid = emulator.quirks.keyKid === "id" ? id : `${id.slice(0, -1)}${id.endsWith("0") ? "1" : "0"}`;
      const streamJwk = { use: "sig", kty: "RSA", kid, alg: "RS256", n, e, d, p, q, dp, dq, qi };
      return ok({
        id,
        pem: btoa(pkcs8ToPkcs1Pem(pkcs8)),
        jwk: btoa(JSON.stringify(streamJwk)),
        created: new Date(now).toISOString(),
      });
    }),
  );

  api.get(
    "/",
    guarded(emulator, "keys.list", () =>
      ok(
        live()
          .sort((a, b) => a.created - b.created)
          .map((k) => ({ id: k.id, created: new Date(k.created).toISOString() })),
      ),
    ),
  );

  api.delete(
    "/:keyId",
    guarded(emulator, "keys.delete", async (c) => {
      const id = c.req.param("keyId") ?? "";
      const key = Object.hasOwn(emulator.state.keys, id) ? emulator.state.keys[id] : undefined;
      if (!key || key.revoked) return noRoute(apiPath(c));
      // Remembered as revoked, so that delivery can say why a token stopped working.
      key.revoked = true;
      await emulator.save();
      return ok("Revoked");
    }),
  );

  return api;
}
