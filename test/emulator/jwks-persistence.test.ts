// The control API's JWKS stand-in (PUT/GET /__emulator/jwks) is part of the account's saved
// state, so it survives the emulator's Durable Object being evicted (after ~10 s idle in
// `wrangler dev`) and started again from storage. abortAllDurableObjects() does that to the
// emulator, an auxiliary Worker (evictDurableObject only reaches the main Worker's objects): the
// in-memory instance goes, storage stays. It also drops the emulator's other in-memory
// instruments (counters, faults, rate limit, webhook log), which other files set up themselves.
import { abortAllDurableObjects } from "cloudflare:test";
import { afterAll, beforeAll, expect, test } from "vitest";
import { control } from "./helpers";

interface Jwks {
  keys: Record<string, unknown>[];
}

const IDP_KEY = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid: "idp-restart", alg: "EdDSA" };

let before: Jwks;
beforeAll(async () => {
  before = await control<Jwks>("GET", "/jwks");
});
afterAll(async () => {
  await control("PUT", "/jwks", before);
});

test("a JWKS put to the stand-in is still served after the emulator's Durable Object restarts", async () => {
  expect(await control("PUT", "/jwks", { keys: [IDP_KEY] })).toEqual({ keys: [IDP_KEY] });
  expect(await control("GET", "/jwks")).toEqual({ keys: [IDP_KEY] });
  expect(await control("GET", "/jwks/fetches")).toEqual({ fetches: expect.any(Number) });

  await abortAllDurableObjects();

  // A new instance: the in-memory fetch count started again from zero...
  expect(await control("GET", "/jwks/fetches")).toEqual({ fetches: 0 });
  // ...but the keys came back with the saved account.
  expect(await control("GET", "/jwks")).toEqual({ keys: [IDP_KEY] });
  expect(await control("GET", "/jwks/fetches")).toEqual({ fetches: 1 });
});

test("a JWKS replaced before a restart is served as replaced", async () => {
  await control("PUT", "/jwks", { keys: [IDP_KEY] });
  await control("PUT", "/jwks", { keys: [] });
  await abortAllDurableObjects();
  expect(await control("GET", "/jwks")).toEqual({ keys: [] });
});
