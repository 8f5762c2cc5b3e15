import { SELF } from "cloudflare:test";
import { expect, test } from "vitest";

test("healthz answers 200 without touching Stream or D1", async () => {
  const res = await SELF.fetch("https://gateway.test/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
