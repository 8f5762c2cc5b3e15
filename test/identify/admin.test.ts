import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { createAdminGate, requireAdmin } from "../../src/identify/admin";
import { parseConfig } from "../../src/config/config";
import { DELIVERIES } from "../../src/deliver/modes";

const configured = parseConfig(env, DELIVERIES).adminTokens;
const tokens = createAdminGate(configured);

function request(authorization?: string): Request {
  return new Request("https://gateway.test/v1/admin/grants", { headers: authorization === undefined ? {} : { authorization } });
}

/** What every refusal carries: the 401 slug and the admin realm's challenge. */
function refused(detail: unknown) {
  return {
    status: 401,
    type: "unauthenticated",
    detail,
    options: { headers: { "www-authenticate": 'Bearer realm="stream-download-gateway-admin"' } },
  };
}

describe("requireAdmin", () => {
  test("both configured tokens are accepted, so the token can be rotated", async () => {
    expect(configured).toEqual(["test-admin-token-one", "test-admin-token-two"]);
    await expect(requireAdmin(request("Bearer test-admin-token-one"), tokens)).resolves.toBeUndefined();
    await expect(requireAdmin(request("Bearer test-admin-token-two"), tokens)).resolves.toBeUndefined();
  });

  test("a single configured token is accepted", async () => {
    await expect(requireAdmin(request("Bearer only-token"), createAdminGate(["only-token"]))).resolves.toBeUndefined();
  });

  test("wrong, missing, empty and malformed tokens are refused", async () => {
    for (const header of [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      "Bearer wrong-token",
      "Bearer test-admin-token-one junk",
      "Bearer test-admin-token-one,test-admin-token-two",
      "Bearer test-admin-token-on",
      "Bearer test-admin-token-onee",
      "Basic test-admin-token-one",
      "test-admin-token-one",
    ]) {
      await expect(requireAdmin(request(header), tokens)).rejects.toMatchObject(refused(expect.stringMatching(/^admin token (required|invalid)$/)));
    }
  });

  test("an app user's JWT is not an admin token", async () => {
    await expect(requireAdmin(request("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"), tokens)).rejects.toMatchObject(refused("admin token invalid"));
  });

  test("with no token configured the admin API is disabled", async () => {
    await expect(requireAdmin(request("Bearer test-admin-token-one"), createAdminGate([]))).rejects.toMatchObject(refused("admin API disabled"));
  });
});
