import { env } from "cloudflare:test";
import { exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterEach, describe, expect, test, vi } from "vitest";
import { createVerifier, identifyUser } from "../../src/identify/app-token";
import { type Config, parseConfig } from "../../src/config/config";
import { DELIVERIES } from "../../src/deliver/modes";
import { Problem } from "../../src/problems";

const hs256Auth = tokenAuth(parseConfig(env, DELIVERIES).auth);
const hs256 = createVerifier(hs256Auth);
const secret = hs256Auth.secret;
const strict = createVerifier({ ...hs256Auth, issuer: "https://app.example", audience: "stream-download-gateway" });
// Nothing serves this JWKS in tests: the outbound fetch reaches the Stream emulator, which has no such route.
const jwks = createVerifier({ ...hs256Auth, kind: "jwks", jwksUrl: new URL("https://idp.test/.well-known/jwks.json") });

/** The test project's auth: HS256 (vitest.config.ts). */
function tokenAuth(auth: Config["auth"]): Extract<Config["auth"], { kind: "hs256" }> {
  if (auth.kind !== "hs256") throw new Error("the test project configures AUTH_HS256_SECRET");
  return auth;
}

const now = () => Math.floor(Date.now() / 1000);
const bearer = { allowCookie: false };
const cookieToo = { allowCookie: true };

async function token(claims: JWTPayload = {}, key: Uint8Array = secret): Promise<string> {
  return new SignJWT({ sub: "user-1", exp: now() + 600, ...claims }).setProtectedHeader({ alg: "HS256" }).sign(key);
}

function request(headers: Record<string, string> = {}): Request {
  return new Request("https://gateway.test/v1/videos/x/download", { headers });
}

const withBearer = (jwt: string) => request({ authorization: `Bearer ${jwt}` });

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

const CHALLENGE = /^Bearer realm="stream-download-gateway"(, error="invalid_token", error_description="[a-z ]+")?$/;

/** Awaits a refusal and checks what every refusal must carry: 401, the slug, an RFC 6750 challenge. */
async function refusal(pending: Promise<unknown>): Promise<{ detail: string; challenge: string }> {
  const error = await pending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Problem);
  const problem = error as Problem;
  expect(problem.status).toBe(401);
  expect(problem.type).toBe("unauthenticated");
  const challenge = problem.options.headers?.["www-authenticate"] ?? "";
  expect(challenge).toMatch(CHALLENGE);
  return { detail: problem.detail, challenge };
}

async function refusedBecause(pending: Promise<unknown>, reason: string): Promise<void> {
  const { challenge } = await refusal(pending);
  expect(challenge).toBe(`Bearer realm="stream-download-gateway", error="invalid_token", error_description="${reason}"`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("where the token comes from", () => {
  test("a valid HS256 bearer token identifies its sub", async () => {
    const user = await identifyUser(withBearer(await token({ videos: ["a"] })), hs256, bearer);
    expect(user.id).toBe("user-1");
    expect(user.claims.videos).toEqual(["a"]);
  });

  test("the bearer scheme is case-insensitive", async () => {
    const user = await identifyUser(request({ authorization: `bearer ${await token()}` }), hs256, bearer);
    expect(user.id).toBe("user-1");
  });

  test("the session cookie is accepted where the route allows it", async () => {
    const jwt = await token();
    const user = await identifyUser(request({ cookie: `theme=dark; sdg_session=${jwt}; x=1` }), hs256, cookieToo);
    expect(user.id).toBe("user-1");
  });

  test("the cookie is ignored where the route does not allow it (CSRF)", async () => {
    const { detail, challenge } = await refusal(identifyUser(request({ cookie: `sdg_session=${await token()}` }), hs256, bearer));
    expect(detail).toBe("no credentials");
    expect(challenge).toBe('Bearer realm="stream-download-gateway"');
  });

  test("the first cookie of that name counts; similar names do not", async () => {
    const good = await token({ sub: "first" });
    const other = await token({ sub: "second" });
    const user = await identifyUser(request({ cookie: `xsdg_session=${other}; sdg_session=${good}; sdg_session=${other}` }), hs256, cookieToo);
    expect(user.id).toBe("first");
    await refusal(identifyUser(request({ cookie: `xsdg_session=${good}; sdg_session_x=${good}` }), hs256, cookieToo));
  });

  test("a cookie is not read when no cookie name is configured", async () => {
    await refusal(identifyUser(request({ cookie: `sdg_session=${await token()}` }), createVerifier({ ...hs256Auth, cookieName: null }), cookieToo));
  });

  test("the bearer header wins over the cookie", async () => {
    const cookie = `sdg_session=${await token({ sub: "from-cookie" })}`;
    const user = await identifyUser(request({ authorization: `Bearer ${await token({ sub: "from-header" })}`, cookie }), hs256, cookieToo);
    expect(user.id).toBe("from-header");
    await refusedBecause(identifyUser(request({ authorization: "Bearer garbage", cookie }), hs256, cookieToo), "token malformed");
  });

  test("no credentials get a bare challenge", async () => {
    const { challenge } = await refusal(identifyUser(request(), hs256, cookieToo));
    expect(challenge).toBe('Bearer realm="stream-download-gateway"');
    await refusal(identifyUser(request({ cookie: "sdg_session=" }), hs256, cookieToo));
  });

  test("garbage in the Authorization header is refused", async () => {
    await refusedBecause(identifyUser(withBearer("not-a-jwt"), hs256, bearer), "token malformed");
    await refusedBecause(identifyUser(withBearer("a.b.c"), hs256, bearer), "token malformed");
    await refusedBecause(identifyUser(request({ authorization: "Basic dXNlcjpwYXNz" }), hs256, bearer), "malformed authorization header");
    await refusedBecause(identifyUser(request({ authorization: "Bearer" }), hs256, bearer), "malformed authorization header");
    await refusedBecause(identifyUser(request({ authorization: `Bearer ${await token()} junk` }), hs256, bearer), "malformed authorization header");
  });
});

describe("algorithms", () => {
  test("an unsigned alg:none token is refused", async () => {
    const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "user-1", exp: now() + 600 })}.`;
    await refusedBecause(identifyUser(withBearer(unsigned), hs256, bearer), "token algorithm not allowed");
  });

  test("an RS256 token is refused by an HS256 configuration", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT({ sub: "user-1", exp: now() + 600 }).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    await refusedBecause(identifyUser(withBearer(rs256), hs256, bearer), "token algorithm not allowed");
  });

  test("an HS256 token signed with the identity provider's public key is refused by a JWKS configuration", async () => {
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const publicBytes = new TextEncoder().encode(await exportSPKI(publicKey));
    await refusedBecause(identifyUser(withBearer(await token({}, publicBytes)), jwks, bearer), "token algorithm not allowed");
  });

  test("other HMAC algorithms are refused by an HS256 configuration", async () => {
    const hs512 = await new SignJWT({ sub: "user-1", exp: now() + 600 }).setProtectedHeader({ alg: "HS512" }).sign(secret);
    await refusedBecause(identifyUser(withBearer(hs512), hs256, bearer), "token algorithm not allowed");
  });

  test("an HS256 token signed with another secret is refused", async () => {
    const forged = await token({}, new TextEncoder().encode("another-secret-of-at-least-32-bytes!!"));
    await refusedBecause(identifyUser(withBearer(forged), hs256, bearer), "token signature invalid");
  });
});

describe("claims", () => {
  test("a token expired 30 s ago is accepted (60 s clock tolerance)", async () => {
    const user = await identifyUser(withBearer(await token({ exp: now() - 30 })), hs256, bearer);
    expect(user.id).toBe("user-1");
  });

  test("a token expired beyond the tolerance is refused", async () => {
    await refusedBecause(identifyUser(withBearer(await token({ exp: now() - 90 })), hs256, bearer), "token expired");
  });

  test("a token not valid before a future time is refused", async () => {
    await refusedBecause(identifyUser(withBearer(await token({ nbf: now() + 120 })), hs256, bearer), "token not yet valid");
  });

  test("exp and sub are required", async () => {
    const noExp = await new SignJWT({ sub: "user-1" }).setProtectedHeader({ alg: "HS256" }).sign(secret);
    await refusedBecause(identifyUser(withBearer(noExp), hs256, bearer), "token missing exp");
    const noSub = await new SignJWT({ exp: now() + 600 }).setProtectedHeader({ alg: "HS256" }).sign(secret);
    await refusedBecause(identifyUser(withBearer(noSub), hs256, bearer), "token missing sub");
  });

  test("a non-numeric exp is refused", async () => {
    await refusedBecause(identifyUser(withBearer(await token({ exp: "tomorrow" as unknown as number })), hs256, bearer), "token claims invalid");
  });

  test("sub must be a non-empty string of at most 256 characters", async () => {
    for (const sub of ["", "x".repeat(257), 42, ["user-1"]]) {
      await refusedBecause(identifyUser(withBearer(await token({ sub } as JWTPayload)), hs256, bearer), "token sub invalid");
    }
    const user = await identifyUser(withBearer(await token({ sub: "x".repeat(256) })), hs256, bearer);
    expect(user.id).toHaveLength(256);
  });

  test("issuer and audience are checked when configured", async () => {
    const good = { iss: "https://app.example", aud: "stream-download-gateway" };
    expect((await identifyUser(withBearer(await token(good)), strict, bearer)).id).toBe("user-1");
    await refusedBecause(identifyUser(withBearer(await token({ ...good, iss: "https://evil.example" })), strict, bearer), "wrong issuer");
    await refusedBecause(identifyUser(withBearer(await token({ ...good, aud: "another-service" })), strict, bearer), "wrong audience");
    await refusedBecause(identifyUser(withBearer(await token({ aud: good.aud })), strict, bearer), "token missing iss");
    await refusedBecause(identifyUser(withBearer(await token({ iss: good.iss })), strict, bearer), "token missing aud");
  });

  test("issuer and audience are not required when not configured", async () => {
    const user = await identifyUser(withBearer(await token({ iss: "anyone", aud: "anything" })), hs256, bearer);
    expect(user.id).toBe("user-1");
  });
});

describe("JWKS", () => {
  test("an unreachable JWKS is an upstream outage: 503 upstream-unavailable with Retry-After (not a 401 that signs users out), logged without the token", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT({ sub: "user-1", exp: now() + 600 }).setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(privateKey);
    const error = await identifyUser(withBearer(rs256), jwks, bearer).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Problem);
    expect((error as Problem).status).toBe(503);
    expect((error as Problem).type).toBe("upstream-unavailable");
    expect((error as Problem).options.headers?.["retry-after"]).toMatch(/^\d+$/);
    expect(log).toHaveBeenCalled();
    expect(JSON.stringify(log.mock.calls)).not.toContain(rs256.split(".")[2]);
  });
});
