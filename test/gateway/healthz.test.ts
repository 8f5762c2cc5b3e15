import { SELF } from "cloudflare:test";
import { expect, test } from "vitest";

test("healthz answers without I/O", async () => {
  const res = await SELF.fetch("https://gateway.test/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
  const em = await fetch("https://api.cloudflare.com/client/v4/x");
  expect(await em.text()).toBe("hi api.cloudflare.com");
});
