// The gateway mounted under a prefix of another Hono app (`app.route("/downloads", …)`), as an
// app that embeds it would: every URL it hands out follows the prefix, and its admin routes guard
// themselves wherever they are mounted.
import { Hono } from "hono";
import { describe, expect, test } from "vitest";
import { app as gateway } from "../../src/index";
import { seedVideo } from "../emulator/helpers";
import { linkSecret, appToken, callHost, expectProblem, randomUser } from "../helpers";

const host = new Hono<{ Bindings: Env }>();
host.get("/", (c) => c.text("the host app's own page"));
host.route("/downloads", gateway);

function call(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return callHost(host, `https://app.example${path}`, { ...rest, headers });
}

describe("mounted at /downloads in another app", () => {
  test("share links, their landing page's form and stream-mode grants all carry the prefix; the file downloads", async () => {
    const { uid } = await seedVideo({ name: "Mounted", requireSignedURLs: true, downloads: { default: "ready" } });
    const token = await appToken(randomUser(), { videos: [uid] });
    const created = await call(`/downloads/v1/videos/${uid}/share-links`, {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "default", expiresIn: 3600 }),
    });
    expect(created.status).toBe(201);
    const { url } = (await created.json()) as { url: string };
    const id = linkSecret({ url });
    expect(url).toBe(`https://app.example/downloads/s/${id}`);

    const page = await call(`/downloads/s/${id}`, { headers: { accept: "text/html" } });
    expect(await page.text()).toContain(`<form data-download method="post" action="/downloads/s/${id}">`);

    const granted = await call(`/downloads/s/${id}?mode=stream`, { method: "POST" });
    expect(granted.status).toBe(303);
    const location = new URL(granted.headers.get("location") ?? "");
    expect(location.origin).toBe("https://app.example");
    expect(location.pathname).toMatch(/^\/downloads\/d\/[\w-]+\.[\w-]+\.[\w-]+$/);
    const file = await call(location.pathname);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("video/mp4");
    await file.arrayBuffer();

    expect(await (await call("/")).text()).toBe("the host app's own page");
  });

  test("the OpenAPI document names the mount path as its server", async () => {
    const doc = (await (await call("/downloads/openapi.json")).json()) as { servers: { url: string }[]; paths: Record<string, unknown> };
    expect(doc.servers).toEqual([{ url: "/downloads" }]);
    expect(Object.keys(doc.paths)).toContain("/v1/videos/{uid}/download");
  });

  test("the admin router guards itself under the prefix", async () => {
    await expectProblem(await call("/downloads/v1/admin/grants"), 401, "unauthenticated");
    const ok = await call("/downloads/v1/admin/grants", { token: "test-admin-token-one" });
    expect(ok.status).toBe(200);
  });
});
