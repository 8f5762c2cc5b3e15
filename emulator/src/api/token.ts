import { Hono } from "hono";
import { SignJWT, importJWK, type JWTPayload } from "jose";
import { z } from "zod";
import { parseAccessRules } from "../delivery/access-rules";
import { badRequest, ok } from "../envelope";
import type { Emulator } from "../emulator";
import { pkcs1PemToPkcs8 } from "../keys/pkcs1";
import type { PlatformKey } from "../store";
import { randomHex } from "../videos";
import { RSA_KEY_PARAMS } from "./keys";
import { guardedVideo, readBody } from "./guard";

const DAY_SECONDS = 24 * 60 * 60;

const TokenRequest = z.object({
  id: z.string().optional(),
  pem: z.string().optional(),
  exp: z.number().int().optional(),
  nbf: z.number().int().optional(),
  downloadable: z.boolean().optional(),
  accessRules: z.unknown().optional(),
});

async function platformKey(emulator: Emulator): Promise<PlatformKey> {
  if (emulator.state.platformKey) return emulator.state.platformKey;
  const pair = (await crypto.subtle.generateKey(RSA_KEY_PARAMS, true, ["sign", "verify"])) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  emulator.state.platformKey = { id: randomHex(16), privateJwk };
  await emulator.save();
  return emulator.state.platformKey;
}

/** `POST …/stream/{uid}/token` (docs/stream-behaviour.md §3, option A): Stream signs the token itself. */
export function tokenRoutes(emulator: Emulator): Hono {
  const api = new Hono();
  api.post(
    "/",
    guardedVideo(emulator, "token.create", async (c, video) => {
      const request = await readBody(c, TokenRequest);
      if (!request.ok) return request.response;
      const { id, pem, exp, nbf, downloadable, accessRules } = request.value;
      if ((id === undefined) !== (pem === undefined)) return badRequest("id and pem must be sent together");
      const rules = parseAccessRules(accessRules);
      if (!rules.ok) return badRequest(rules.reason);
      const now = Math.floor(emulator.now() / 1000);
      const expires = exp ?? now + 3600;
      if (expires > now + DAY_SECONDS) return badRequest("exp cannot be more than 24 hours in the future");

      let kid: string;
      let key: CryptoKey;
      if (id !== undefined && pem !== undefined) {
        kid = id;
        try {
          key = await crypto.subtle.importKey("pkcs8", pkcs1PemToPkcs8(atob(pem)), RSA_KEY_PARAMS, false, ["sign"]);
        } catch {
          return badRequest("pem is not a base64 PKCS#1 RSA private key");
        }
      } else {
        const platform = await platformKey(emulator);
        kid = platform.id;
        key = (await importJWK(platform.privateJwk, "RS256")) as CryptoKey;
      }
      const claims: JWTPayload = {
        sub: video.uid,
        kid,
        exp: expires,
        // Stream's default: valid from one hour before issue.
        nbf: nbf ?? now - 3600,
        ...(downloadable !== undefined ? { downloadable } : {}),
        ...(rules.rules.length ? { accessRules: rules.rules } : {}),
      };
      const token = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).sign(key);
      return ok({ token });
    }),
  );
  return api;
}
