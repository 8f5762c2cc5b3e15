// The official `cloudflare` SDK, unchanged, must be able to talk to the emulator: if it cannot
// parse an answer, the emulator's shape is wrong, not the SDK.
import Cloudflare from "cloudflare";
import { expect, test } from "vitest";
import { ACCOUNT, API_TOKEN, DELIVERY_BASE, seedVideo } from "./helpers";

const BASE_URL = "https://api.cloudflare.com/client/v4";

test("the official cloudflare SDK reads videos, downloads and keys and maps 401/404 to its error classes", async () => {
  const client = new Cloudflare({ apiToken: API_TOKEN, baseURL: BASE_URL, maxRetries: 0 });
  const { uid } = await seedVideo({ name: "SDK video", downloads: { default: "ready" } });

  const video = await client.stream.get(uid, { account_id: ACCOUNT });
  expect(video).toMatchObject({ uid, readyToStream: true, status: { state: "ready" }, meta: { name: "SDK video" } });

  const created = await client.stream.downloads.create(uid, { account_id: ACCOUNT });
  expect(created.default).toEqual({ status: "ready", percentComplete: 100, url: `${DELIVERY_BASE}/${uid}/downloads/default.mp4` });
  const downloads = await client.stream.downloads.get(uid, { account_id: ACCOUNT });
  expect(downloads.default?.status).toBe("ready");

  const key = await client.stream.keys.create({ account_id: ACCOUNT });
  expect(key.id).toMatch(/^[0-9a-f]{32}$/);
  expect(atob(key.pem ?? "")).toContain("-----BEGIN RSA PRIVATE KEY-----");
  expect(JSON.parse(atob(key.jwk ?? ""))).toMatchObject({ kid: key.id, kty: "RSA", alg: "RS256" });
  expect(await client.stream.keys.delete(key.id!, { account_id: ACCOUNT })).toBe("Revoked");

  const stranger = new Cloudflare({ apiToken: "x".repeat(40), baseURL: BASE_URL, maxRetries: 0 });
  const denied = stranger.stream.get(uid, { account_id: ACCOUNT });
  await expect(denied).rejects.toBeInstanceOf(Cloudflare.AuthenticationError);
  await expect(denied).rejects.toMatchObject({ status: 401, errors: [{ code: 10000, message: "Authentication error" }] });

  const missing = client.stream.get("f".repeat(32), { account_id: ACCOUNT });
  await expect(missing).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  await expect(missing).rejects.toMatchObject({ status: 404, errors: [{ code: 7003 }, { code: 7000 }] });
});
