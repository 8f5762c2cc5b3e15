// Attacks on the app token (docs/design.md, docs/security.md), through the whole gateway: alg
// confusion (`none`, HS256 keyed with the identity provider's public key, embedded keys), tokens
// for another audience or issuer, expired and not-yet-valid tokens, tampered and claim-less
// tokens, by bearer header and by cookie. Every refusal is a 401 problem with an RFC 6750
// challenge, and a refused request never reaches Stream (the emulator's counters for a video the
// gateway has not seen yet stay at zero).
import { env } from "cloudflare:test";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";
import { beforeAll, describe, expect, test } from "vitest";
import { control, counters, seedVideo } from "../emulator/helpers";
import { callWorker, envWith, expectProblem, randomUser } from "../helpers";

const READY = { downloads: { default: "ready", audio: "ready" } };
const ISSUER = "https://app.example";
const AUDIENCE = "stream-download-gateway";
const JWKS_URL = "https://idp-attack.example/__emulator/jwks";

const hs256Env = envWith({});
const strictEnv = envWith({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
const jwksEnv = envWith({ AUTH_HS256_SECRET: "", AUTH_JWKS_URL: JWKS_URL });

const secret = new TextEncoder().encode(env.AUTH_HS256_SECRET);
const idp = await generateKeyPair("RS256", { extractable: true });
const attacker = await generateKeyPair("RS256", { extractable: true });
const ec = await generateKeyPair("ES256");
const KID = "idp-attack-rsa";
let idpPublicJwk: JWK;

beforeAll(async () => {
  idpPublicJwk = { ...(await exportJWK(idp.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  await control("PUT", "/jwks", { keys: [idpPublicJwk] });
});

const now = () => Math.floor(Date.now() / 1000);
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const b64json = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));

/** The claims of a valid token for `sub`, entitled to every video, valid for 10 minutes. */
const claims = (extra: JWTPayload = {}): JWTPayload => ({ sub: randomUser(), exp: now() + 600, videos: "*", ...extra });

function hs256(payload: JWTPayload, key: Uint8Array = secret, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", ...header }).sign(key);
}

function rs256(payload: JWTPayload, key: CryptoKey = idp.privateKey, header: Record<string, unknown> = { kid: KID }): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", ...header }).sign(key);
}

/** A token with the given header and payload and a signature computed by hand (HMAC-SHA-*). */
async function hmacToken(header: Record<string, unknown>, payload: JWTPayload, key: Uint8Array, hash = "SHA-256"): Promise<string> {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(input)));
  return `${input}.${b64url(mac)}`;
}

const unsigned = (header: Record<string, unknown>, payload: JWTPayload, signature = "") => `${b64json(header)}.${b64json(payload)}.${signature}`;

/** A fresh ready video at Stream that the gateway has never seen: any request that got past identify would call Stream. */
async function untouchedVideo(): Promise<string> {
  const { uid } = await seedVideo(READY);
  return uid;
}

async function expectRefused(testEnv: Env, uid: string, token: string, how: "bearer" | "cookie" = "bearer"): Promise<void> {
  const headers: Record<string, string> = how === "cookie" ? { cookie: `sdg_session=${token}` } : { authorization: `Bearer ${token}` };
  const res = await callWorker(testEnv, `/v1/videos/${uid}/download`, { headers });
  expect(res.headers.get("location")).toBeNull();
  await expectProblem(res, 401, "unauthenticated");
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="stream-download-gateway", error="invalid_token", error_description="[a-z ]+"$/);
}

/** After the refusals, the same video with a good token is served: the refusals were about the token, not the setup. */
async function expectStillServed(testEnv: Env, uid: string, token: string): Promise<void> {
  expect(await counters(uid)).toEqual({ api: 0, delivery: 0, byOperation: {} });
  const res = await callWorker(testEnv, `/v1/videos/${uid}/download`, { token });
  expect(res.status).toBe(302);
}

describe("alg confusion", () => {
  test("alg none (any spelling, with or without a signature) is refused by an HS256 gateway, by bearer and by cookie", async () => {
    const uid = await untouchedVideo();
    const payload = claims();
    const forged = [
      unsigned({ alg: "none", typ: "JWT" }, payload),
      unsigned({ alg: "None" }, payload),
      unsigned({ alg: "NONE" }, payload),
      unsigned({ alg: "nOnE" }, payload),
      unsigned({ alg: "none" }, payload, (await hs256(payload)).split(".")[2]),
      unsigned({ typ: "JWT" }, payload),
      unsigned({ alg: "" }, payload),
    ];
    for (const token of forged) {
      await expectRefused(hs256Env, uid, token);
      await expectRefused(hs256Env, uid, token, "cookie");
    }
    await expectStillServed(hs256Env, uid, await hs256(claims()));
  });

  test("alg none is refused by a JWKS gateway", async () => {
    const uid = await untouchedVideo();
    const payload = claims();
    for (const token of [unsigned({ alg: "none", kid: KID }, payload), unsigned({ alg: "none" }, payload)]) {
      await expectRefused(jwksEnv, uid, token);
    }
    await expectStillServed(jwksEnv, uid, await rs256(claims()));
  });

  test("HS256 signed with the identity provider's public key (JWK, SPKI PEM, DER, modulus, JWKS) is refused by a JWKS gateway", async () => {
    const uid = await untouchedVideo();
    const pem = await exportSPKI(idp.publicKey);
    const der = new Uint8Array((await crypto.subtle.exportKey("spki", idp.publicKey)) as ArrayBuffer);
    const encode = (text: string) => new TextEncoder().encode(text);
    const keyForms: Uint8Array[] = [
      encode(JSON.stringify(idpPublicJwk)),
      encode(JSON.stringify({ keys: [idpPublicJwk] })),
      encode(pem),
      encode(pem.trim()),
      der,
      encode(idpPublicJwk.n ?? ""),
    ];
    for (const key of keyForms) {
      for (const header of [{ alg: "HS256", kid: KID }, { alg: "HS256" }]) {
        await expectRefused(jwksEnv, uid, await hmacToken(header, claims(), key));
      }
    }
    await expectStillServed(jwksEnv, uid, await rs256(claims()));
  });

  test("a token signed by an attacker's key is refused by a JWKS gateway, whatever its header claims (embedded jwk, jku, x5u, the IdP's kid)", async () => {
    const uid = await untouchedVideo();
    const attackerJwk = await exportJWK(attacker.publicKey);
    const headers: Record<string, unknown>[] = [
      { kid: KID },
      { kid: KID, jwk: attackerJwk },
      { jwk: attackerJwk },
      { kid: "attacker", jku: "https://evil.example/jwks.json" },
      { kid: "attacker", x5u: "https://evil.example/cert.pem" },
      { kid: "../../../../dev/null" },
      { kid: `${KID}' OR '1'='1` },
      {},
    ];
    for (const header of headers) await expectRefused(jwksEnv, uid, await rs256(claims(), attacker.privateKey, header));
    // The right key, but an algorithm the key is not published for.
    await expectRefused(jwksEnv, uid, await new SignJWT(claims()).setProtectedHeader({ alg: "ES256", kid: KID }).sign(ec.privateKey));
    await expectStillServed(jwksEnv, uid, await rs256(claims()));
  });

  test("an HS256 gateway refuses RS256/ES256 tokens and HS384/HS512 tokens made with its own secret", async () => {
    const uid = await untouchedVideo();
    const attackerJwk = await exportJWK(attacker.publicKey);
    const forged = [
      await rs256(claims(), attacker.privateKey, {}),
      await rs256(claims(), attacker.privateKey, { jwk: attackerJwk }),
      await new SignJWT(claims()).setProtectedHeader({ alg: "ES256" }).sign(ec.privateKey),
      await hmacToken({ alg: "HS384" }, claims(), secret, "SHA-384"),
      await hmacToken({ alg: "HS512" }, claims(), secret, "SHA-512"),
      // An HS256 MAC under a header that names another algorithm.
      await hmacToken({ alg: "HS512" }, claims(), secret, "SHA-256"),
      await hmacToken({ alg: "RS256" }, claims(), secret, "SHA-256"),
    ];
    for (const token of forged) await expectRefused(hs256Env, uid, token);
    await expectStillServed(hs256Env, uid, await hs256(claims()));
  });
});

describe("signature and shape", () => {
  test("tampered payloads, another secret, critical headers, and tokens of the wrong shape are refused", async () => {
    const uid = await untouchedVideo();
    const good = await hs256(claims({ videos: ["0".repeat(32)] }));
    const [header, , signature] = good.split(".");
    const tampered = `${header}.${b64json(claims())}.${signature}`;
    const forged = [
      tampered,
      `${good.split(".").slice(0, 2).join(".")}.`,
      `${good}.`,
      `${good}.${signature}`,
      good.split(".").slice(0, 2).join("."),
      await hs256(claims(), new TextEncoder().encode("another-secret-of-at-least-32-bytes!!")),
      await hmacToken({ alg: "HS256", crit: ["exp"] }, claims(), secret),
      await hmacToken({ alg: "HS256", crit: ["zqx"], zqx: true }, claims(), secret),
      await hmacToken({ alg: "HS256", b64: false, crit: ["b64"] }, claims(), secret),
      // A JWE-shaped token (5 parts).
      `${b64json({ alg: "dir", enc: "A256GCM" })}..${b64url(new Uint8Array(12))}.${b64json(claims())}.${b64url(new Uint8Array(16))}`,
    ];
    for (const token of forged) await expectRefused(hs256Env, uid, token);
    await expectStillServed(hs256Env, uid, await hs256(claims()));
  });
});

describe("claims", () => {
  test("expired beyond the 60 s tolerance, or not valid until 2 minutes from now: refused; within the tolerance: accepted", async () => {
    const uid = await untouchedVideo();
    for (const payload of [
      claims({ exp: now() - 120 }),
      claims({ exp: now() - 86_400 }),
      claims({ exp: 0 }),
      claims({ exp: -1 }),
      claims({ nbf: now() + 120 }),
      claims({ nbf: now() + 86_400 * 365 }),
      claims({ exp: now() - 120, nbf: now() + 120 }),
    ]) {
      await expectRefused(hs256Env, uid, await hs256(payload));
      await expectRefused(hs256Env, uid, await hs256(payload), "cookie");
    }
    await expectStillServed(hs256Env, uid, await hs256(claims({ exp: now() - 30, nbf: now() + 30 })));
  });

  test("tokens without exp or sub, or with claims of the wrong type, are refused", async () => {
    const uid = await untouchedVideo();
    const { exp: _exp, ...noExp } = claims();
    const { sub: _sub, ...noSub } = claims();
    for (const payload of [
      noExp,
      noSub,
      claims({ sub: "" }),
      claims({ sub: 42 as unknown as string }),
      claims({ sub: ["a"] as unknown as string }),
      claims({ sub: "x".repeat(257) }),
      claims({ exp: "9999999999" as unknown as number }),
      claims({ exp: null as unknown as number }),
      claims({ nbf: "0" as unknown as number }),
    ]) {
      await expectRefused(hs256Env, uid, await hs256(payload));
    }
    await expectStillServed(hs256Env, uid, await hs256(claims()));
  });

  test("with AUTH_ISSUER and AUTH_AUDIENCE set, tokens for another issuer or audience (or none) are refused", async () => {
    const uid = await untouchedVideo();
    const good = { iss: ISSUER, aud: AUDIENCE };
    for (const extra of [
      { ...good, iss: "https://evil.example" },
      { ...good, iss: `${ISSUER}/` },
      { ...good, iss: "https://APP.example" },
      { ...good, iss: `${ISSUER}.evil.example` },
      { ...good, aud: "another-service" },
      { ...good, aud: ["another-service"] },
      { ...good, aud: `${AUDIENCE} ` },
      { ...good, aud: AUDIENCE.toUpperCase() },
      { aud: AUDIENCE },
      { iss: ISSUER },
      {},
    ]) {
      await expectRefused(strictEnv, uid, await hs256(claims(extra)));
    }
    await expectStillServed(strictEnv, uid, await hs256(claims(good)));
  });

  test("the same issuer and audience checks hold for a JWKS gateway", async () => {
    const uid = await untouchedVideo();
    const strictJwks = envWith({ AUTH_HS256_SECRET: "", AUTH_JWKS_URL: JWKS_URL, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    for (const extra of [{ iss: ISSUER, aud: "another-service" }, { iss: "https://evil.example", aud: AUDIENCE }, {}]) {
      await expectRefused(strictJwks, uid, await rs256(claims(extra)));
    }
    await expectStillServed(strictJwks, uid, await rs256(claims({ iss: ISSUER, aud: AUDIENCE })));
  });
});
