// `npm run dev` and `npm run token` with each way the local gateway can verify app tokens: an
// HS256 secret (dev tokens), an identity provider's JWKS (no dev token; dev must still start),
// both or neither (refused before any server starts, with the fix).
import { describe, expect, test } from "vitest";
import { devAuth } from "../../scripts/dev-token.mjs";

describe("devAuth", () => {
  test("an HS256 secret signs dev tokens", () => {
    expect(devAuth({ AUTH_HS256_SECRET: "s".repeat(32), AUTH_JWKS_URL: "" })).toEqual({ secret: "s".repeat(32) });
  });

  test("a JWKS URL means the identity provider issues the tokens: no problem, no secret", () => {
    expect(devAuth({ AUTH_JWKS_URL: "http://localhost:8788/__emulator/jwks", AUTH_HS256_SECRET: " " })).toEqual({
      jwksUrl: "http://localhost:8788/__emulator/jwks",
    });
  });

  test("both or neither is a problem that says how to fix it", () => {
    expect(devAuth({ AUTH_JWKS_URL: "https://idp.example/jwks", AUTH_HS256_SECRET: "s".repeat(32) }).problem).toMatch(/AUTH_HS256_SECRET= \(empty\)/);
    expect(devAuth({}).problem).toMatch(/AUTH_HS256_SECRET=<at least 32 bytes>/);
  });
});
