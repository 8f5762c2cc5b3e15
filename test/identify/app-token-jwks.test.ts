// App tokens from an identity provider's JWKS (AUTH_JWKS_URL). The emulator's /__emulator/jwks
// plays the identity provider; every outbound fetch reaches the emulator whatever the host.
import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, test } from "vitest";
import { createVerifier, identifyUser } from "../../src/identify/app-token";
import { type Config, parseConfig } from "../../src/config/config";
import { DELIVERIES } from "../../src/deliver/modes";
import { Problem } from "../../src/problems";
import { control } from "../emulator/helpers";

// A host of its own, so that this file's key set is not shared with another test's.
const jwksUrl = new URL("https://idp-jwks-test.example/__emulator/jwks");
const { cookieName } = parseConfig(env, DELIVERIES).auth as { cookieName: string | null };
const auth = createVerifier({ kind: "jwks", jwksUrl, issuer: null, audience: null, cookieName } satisfies Config["auth"]);

const rsa = await generateKeyPair("RS256");
const ec = await generateKeyPair("ES256");
const stranger = await generateKeyPair("RS256");

beforeAll(async () => {
  await control("PUT", "/jwks", {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ],
  });
});

async function token(alg: "RS256" | "ES256", kid: string, key: CryptoKey, sub = "jwks-user"): Promise<string> {
  return new SignJWT({ videos: "*" })
    .setProtectedHeader({ alg, kid })
    .setSubject(sub)
    .setExpirationTime("5m")
    .sign(key);
}

const withBearer = (jwt: string) => new Request("https://gateway.test/v1/videos/x/download", { headers: { authorization: `Bearer ${jwt}` } });

describe("a gateway configured with AUTH_JWKS_URL", () => {
  test("accepts RS256 and ES256 tokens signed by keys of the JWKS, and fetches the JWKS once per isolate", async () => {
    const before = await control<{ fetches: number }>("GET", "/jwks/fetches");
    const first = await identifyUser(withBearer(await token("RS256", "rsa-1", rsa.privateKey, "alice")), auth, { allowCookie: false });
    const second = await identifyUser(withBearer(await token("ES256", "ec-1", ec.privateKey, "bob")), auth, { allowCookie: false });
    const third = await identifyUser(withBearer(await token("RS256", "rsa-1", rsa.privateKey, "carol")), auth, { allowCookie: false });
    expect([first.id, second.id, third.id]).toEqual(["alice", "bob", "carol"]);
    const after = await control<{ fetches: number }>("GET", "/jwks/fetches");
    expect(after.fetches - before.fetches).toBe(1);
  });

  test("refuses a token signed by a key that is not in the JWKS, with a 401 problem", async () => {
    const refused = await identifyUser(withBearer(await token("RS256", "rsa-1", stranger.privateKey)), auth, { allowCookie: false }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Problem);
    expect((refused as Problem).status).toBe(401);
    expect((refused as Problem).options.headers?.["www-authenticate"]).toContain('error="invalid_token"');
  });

  test("refuses a token whose kid the JWKS does not have", async () => {
    const refused = await identifyUser(withBearer(await token("RS256", "unknown-kid", rsa.privateKey)), auth, { allowCookie: false }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Problem);
    expect((refused as Problem).type).toBe("unauthenticated");
  });
});
