// The shop's own sign-in, page and sign-out: unchanged by the gateway, except that the page now
// carries download buttons pointed at the gateway's mount.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { addCustomer, buy, pageCsrfToken, postSignIn, shop, signIn } from "./helpers";

describe("sign-in", () => {
  test("the right password starts a session: an HttpOnly, SameSite=Lax, Secure cookie, and the page says who is signed in", async () => {
    const customer = await addCustomer();
    const res = await postSignIn(customer.email, customer.password);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-shop_session=[0-9a-f]{64}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Lax$/);

    const session = /^__Host-shop_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
    const page = await (await shop("/", { session })).text();
    expect(page).toContain(`Signed in as ${customer.email}.`);
  });

  test("on http://localhost the cookie is not Secure, so that `wrangler dev` works in every browser", async () => {
    const customer = await addCustomer();
    const res = await postSignIn(customer.email, customer.password, "http://localhost:8787");
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).not.toContain("Secure");
  });

  test("a wrong password and an unknown email are refused alike, with no session", async () => {
    const customer = await addCustomer();
    for (const [email, password] of [
      [customer.email, "not the password"],
      [`nobody-${customer.id}@customers.test`, customer.password],
    ] as const) {
      const res = await postSignIn(email, password);
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("Wrong email or password.");
    }
  });

  test("a sign-in form posted from another site is refused", async () => {
    const customer = await addCustomer();
    const res = await shop("/login", {
      method: "POST",
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: new URLSearchParams({ email: customer.email, password: customer.password }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("the shop's page", () => {
  test("lists the customer's own purchases, escaped, each with an MP4 and an audio button that ask the gateway at /downloads", async () => {
    const customer = await addCustomer();
    const other = await addCustomer();
    const keynote = "c0ffee00000000000000000000000001";
    const tour = "c0ffee00000000000000000000000002";
    await buy(customer, keynote, "Launch keynote");
    await buy(customer, tour, "Tour <live> & more");
    await buy(other, "c0ffee00000000000000000000000004", "Town hall");
    const session = await signIn(customer);

    const res = await shop("/", { session });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    const buttons = [...page.matchAll(/<stream-download uid="(\w+)" type="(\w+)" gateway="([^"]*)" filename="([^"]*)">/g)].map((m) => m.slice(1));
    expect(buttons.sort()).toEqual(
      [
        [keynote, "audio", "/downloads", "Launch keynote"],
        [keynote, "default", "/downloads", "Launch keynote"],
        [tour, "audio", "/downloads", "Tour &lt;live&gt; &amp; more"],
        [tour, "default", "/downloads", "Tour &lt;live&gt; &amp; more"],
      ].sort(),
    );
    expect(page).not.toContain("Town hall");
    expect(page).toContain('<script type="module" src="/shop.js"></script>');
    expect(await pageCsrfToken(session)).toMatch(/^[0-9a-f]{64}$/);
  });

  test("without a session it is the sign-in form", async () => {
    const page = await (await shop("/")).text();
    expect(page).toContain('<form method="post" action="/login">');
    expect(page).not.toContain("<stream-download");
  });
});

describe("sign-out", () => {
  test("ends the session: the cookie is cleared, its row is gone, and the old cookie neither shows the page nor downloads", async () => {
    const customer = await addCustomer();
    const keynote = "c0ffee00000000000000000000000001";
    await buy(customer, keynote, "Launch keynote");
    const session = await signIn(customer);

    const res = await shop("/logout", { method: "POST", session, headers: { origin: "https://shop.test" } });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-shop_session=; Max-Age=0; Path=\/; Secure$/);
    const rows = await env.APP_DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(customer.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
    expect(await (await shop("/", { session })).text()).toContain('<form method="post" action="/login">');
    expect((await shop(`/downloads/v1/videos/${keynote}/download`, { session })).status).toBe(401);
  });

  test("signing in again ends the browser's previous session", async () => {
    const customer = await addCustomer();
    const first = await signIn(customer);
    const res = await shop("/login", {
      method: "POST",
      session: first,
      headers: { origin: "https://shop.test" },
      body: new URLSearchParams({ email: customer.email, password: customer.password }),
    });
    expect(res.status).toBe(303);
    expect(await (await shop("/", { session: first })).text()).toContain('<form method="post" action="/login">');
  });

  test("sign-in attempts are limited per address: the sixth in a minute is refused, even with the right password", async () => {
    const customer = await addCustomer();
    for (let i = 0; i < 5; i++) expect((await postSignIn(customer.email, "wrong password")).status).toBe(401);
    expect((await postSignIn(customer.email, customer.password)).status).toBe(429);
  });
});
