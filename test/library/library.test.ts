// The gateway as a library in someone else's Hono app: its own sessions (identify), its own
// purchases (entitle), mounted at /downloads. Share links made by a buyer die with the purchase.
import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, test } from "vitest";
import { requestDownloadUrl } from "../../client/download";
import { optionsFromEnv, streamDownloads, type StreamDownloadsOptions } from "../../src/library";
import { seedVideo } from "../emulator/helpers";
import { linkSecret, ADMIN_TOKEN, callHost, expectProblem } from "../helpers";

/** The host app's own data: who bought which video. */
const purchases = new Map<string, Set<string>>();

const host = new Hono<{ Bindings: Env }>();
host.route(
  "/downloads",
  streamDownloads((e: Env) => ({
    ...optionsFromEnv(e),
    // The host's own session: here a header its login middleware would have checked.
    identify: async (c) => {
      const user = c.req.header("x-session");
      return user ? { id: user, claims: {} } : null;
    },
    entitle: async (user, video) => (purchases.get(user.id)?.has(video) ? "grant" : null),
  })),
);

function call(path: string, init: RequestInit & { user?: string } = {}, testEnv: Env = env): Promise<Response> {
  const { user, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (user) headers.set("x-session", user);
  return callHost(host, `https://shop.example${path}`, { ...rest, headers }, testEnv);
}

describe("streamDownloads with the host's identify and entitle", () => {
  test("a buyer downloads, anyone else is refused, and a buyer's share link dies with the refund", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    const buyer = `buyer-${crypto.randomUUID()}`;
    purchases.set(buyer, new Set([uid]));

    expect((await call(`/downloads/v1/videos/${uid}/download`, { user: buyer })).status).toBe(302);
    await expectProblem(await call(`/downloads/v1/videos/${uid}/download`, { user: "someone-else" }), 403, "not-entitled");
    await expectProblem(await call(`/downloads/v1/videos/${uid}/download`), 401, "unauthenticated");

    const created = await call(`/downloads/v1/videos/${uid}/share-links`, {
      method: "POST",
      user: buyer,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "default", expiresIn: 3600, maxDownloads: 5, delivery: "redirect" }),
    });
    expect(created.status).toBe(201);
    const { url } = (await created.json()) as { url: string };
    const id = linkSecret({ url });
    expect(url).toBe(`https://shop.example/downloads/s/${id}`);
    expect((await call(`/downloads/s/${id}?mode=redirect`, { method: "POST" })).status).toBe(302);

    purchases.delete(buyer);
    const paused = await expectProblem(await call(`/downloads/s/${id}?mode=redirect`, { method: "POST" }), 410, "link-paused");
    expect(paused.detail).toMatch(/works again if their access returns/);
    // Bought again: a paused link resumes.
    purchases.set(buyer, new Set([uid]));
    expect((await call(`/downloads/s/${id}?mode=redirect`, { method: "POST" })).status).toBe(302);
  });

  test("a link revoked by its creator or an admin stays revoked when the creator buys again", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    const buyer = `buyer-${crypto.randomUUID()}`;
    purchases.set(buyer, new Set([uid]));
    const make = async () => {
      const created = await call(`/downloads/v1/videos/${uid}/share-links`, {
        method: "POST",
        user: buyer,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ expiresIn: 3600, delivery: "redirect" }),
      });
      return linkSecret(await created.json());
    };
    const byCreator = await make();
    const byAdmin = await make();
    expect((await call(`/downloads/v1/share-links/${byCreator}`, { method: "DELETE", user: buyer })).status).toBe(204);
    const asAdmin = await call(`/downloads/v1/admin/share-links/${byAdmin}`, { method: "DELETE", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(asAdmin.status).toBe(204);

    purchases.delete(buyer);
    purchases.set(buyer, new Set([uid]));
    for (const id of [byCreator, byAdmin]) {
      await expectProblem(await call(`/downloads/s/${id}?mode=redirect`, { method: "POST" }), 410, "link-revoked");
      await expectProblem(await call(`/downloads/s/${id}`), 410, "link-revoked");
    }
  });

  test("the download helper asks the mounted gateway with the app's own headers and no token", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    const buyer = `buyer-${crypto.randomUUID()}`;
    purchases.set(buyer, new Set([uid]));
    const throughHost = (input: string, init: RequestInit) => callHost(host, new URL(input, "https://shop.example").href, init);
    const { url } = await requestDownloadUrl(uid, { gateway: "/downloads", headers: { "x-session": buyer }, fetch: throughHost });
    expect(new URL(url).pathname).toMatch(/\/downloads\/default\.mp4$/);
    const refused = await requestDownloadUrl(uid, { gateway: "/downloads", headers: { "x-session": "someone-else" }, fetch: throughHost }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: "not-entitled", status: 403 });
  });

  test.each([
    [{ settings: null }, "settings"],
    [{ entitle: "grant" }, "entitle"],
    [{ identify: {} }, "identify"],
  ])("a bad option is a misconfiguration that names it: %o", async (bad, setting) => {
    const wrong = streamDownloads((e: Env) => ({ ...optionsFromEnv(e), ...bad }) as unknown as StreamDownloadsOptions<Env>);
    const problem = await expectProblem(await callHost(wrong, `https://shop.example/v1/videos/${"ab".repeat(16)}/download`), 500, "misconfigured");
    expect(problem.setting).toBe(setting);
  });

  test("an app's cookie session is not offered on a request another site started, and the gateway refuses it first", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    const buyer = `buyer-${crypto.randomUUID()}`;
    purchases.set(buyer, new Set([uid]));
    // An identify that reads its session cookie wherever the gateway allows a cookie.
    const cookieShop = streamDownloads((e: Env) => ({
      ...optionsFromEnv(e),
      identify: async (c, { allowCookie }) => {
        const user = allowCookie ? /(?:^|; )session=([^;]+)/.exec(c.req.header("cookie") ?? "")?.[1] : undefined;
        return user ? { id: user, claims: {} } : null;
      },
      entitle: async (user, video) => (purchases.get(user.id)?.has(video) ? "grant" : null),
    }));
    const asked = (site: string) =>
      callHost(cookieShop, `https://shop.example/v1/videos/${uid}/download`, { headers: { cookie: `session=${buyer}`, "sec-fetch-site": site } });
    expect((await asked("same-origin")).status).toBe(302);
    await expectProblem(await asked("cross-site"), 403, "cross-site-request");
  });

  test("the OpenAPI document says the host's identify decides, and leaves out the admin API while it is off", async () => {
    const read = async (testEnv: Env) =>
      (await (await call("/downloads/openapi.json", {}, testEnv)).json()) as {
        paths: Record<string, unknown>;
        components: { securitySchemes: Record<string, { description: string }> };
      };
    const withAdmin = await read(env);
    expect(withAdmin.components.securitySchemes["appToken"]?.description).toMatch(/identify hook/);
    expect(Object.keys(withAdmin.paths)).toContain("/v1/admin/grants");
    const withoutAdmin = await read({ ...env, ADMIN_API_TOKEN: "" } as Env);
    expect(Object.keys(withoutAdmin.paths).filter((path) => path.startsWith("/v1/admin"))).toEqual([]);
    expect(Object.keys(withoutAdmin.paths)).toContain("/v1/videos/{uid}/download");
  });

  test.each(["DB", "SHARE_LINKS"])("a missing binding (%s) is a misconfiguration that names it", async (name) => {
    const without = Object.fromEntries(Object.entries(env).filter(([key]) => key !== name));
    const problem = await expectProblem(await call(`/downloads/v1/videos/${"ab".repeat(16)}/download`, { user: "u" }, without as unknown as Env), 500, "misconfigured");
    expect(problem.setting).toBe(name);
  });
});
