// The demo page and the download-button helper (docs/client.md › Demo, › Download button for your app):
// /demo only when DEMO_ENABLED is "true" (it is "false" in wrangler.toml and in these tests' env),
// its sign-in issues app tokens the gateway accepts, and /assets/stream-download.js is served
// from public/ through the assets binding. The helper's request loop runs here too, against the
// gateway and the Stream emulator.
import { SELF } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, test } from "vitest";
import { requestDownloadUrl, StreamDownloadError, type DownloadProgress } from "../../client/download";
import { seedVideo } from "../emulator/helpers";
import { GATEWAY, appToken, callWorker, envWith, expectProblem, gateway, randomUser } from "../helpers";

const KEYNOTE = "c0ffee00000000000000000000000001"; // seeded, downloads ready
const TRAILER = "c0ffee00000000000000000000000003"; // seeded, public
const CORRUPTED = "c0ffee00000000000000000000000005"; // seeded, processing failed

const demoEnv = () => envWith({ DEMO_ENABLED: "true" });

function signIn(user: unknown, env = demoEnv()): Promise<Response> {
  return callWorker(env, "/demo/sign-in", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user }),
  });
}

/** The cookie's value and attributes from a Set-Cookie header. */
function parseSetCookie(header: string | null): { name: string; value: string; attributes: string[] } {
  const [pair = "", ...attributes] = (header ?? "").split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

describe("DEMO_ENABLED false (the default)", () => {
  test.each([
    ["GET", "/demo"],
    ["GET", "/demo/"],
    ["GET", "/demo/index.html"],
    ["GET", "/demo/demo.js"],
    ["GET", "/demo/users"],
    ["GET", "/demo/videos"],
    ["POST", "/demo/sign-in"],
    ["POST", "/demo/sign-out"],
  ])("%s %s answers 404 not-found, the same as an unknown route", async (method, path) => {
    const res = await gateway(path, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "POST" ? JSON.stringify({ user: "alice" }) : undefined,
    });
    await expectProblem(res, 404, "not-found", path);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  test('any value but "true" keeps the demo off', async () => {
    const res = await callWorker(envWith({ DEMO_ENABLED: "TRUE" }), "/demo/users");
    await expectProblem(res, 404, "not-found");
  });
});

describe("DEMO_ENABLED true", () => {
  test("GET /demo/ is the page, under a CSP that allows scripts from the gateway's origin only", async () => {
    const res = await callWorker(demoEnv(), "/demo/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/demo/demo.js"></script>');
    // Every script is a file: no inline script, no inline handler.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  test("/demo redirects to /demo/; the demo's script is served as JavaScript", async () => {
    const bare = await callWorker(demoEnv(), "/demo");
    expect(bare.status).toBeGreaterThanOrEqual(301);
    expect(bare.status).toBeLessThanOrEqual(308);
    expect(new URL(bare.headers.get("location") ?? "", GATEWAY).pathname).toBe("/demo/");
    const script = await callWorker(demoEnv(), "/demo/demo.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(await script.text()).toContain('from "/assets/stream-download.js"');
  });

  test("the gateway's own address opens the demo in development, and points at the API description otherwise", async () => {
    const dev = await callWorker(demoEnv(), "/");
    expect({ status: dev.status, location: dev.headers.get("location") }).toEqual({ status: 302, location: "/demo/" });
    const production = await callWorker(envWith({ DEMO_ENABLED: "false" }), "/");
    expect(production.status).toBe(200);
    expect(await production.json()).toEqual({ service: "stream-download-gateway", openapi: `${GATEWAY}/openapi.json`, health: `${GATEWAY}/healthz` });
  });

  test("an unknown file under /demo/ is a 404 problem", async () => {
    await expectProblem(await callWorker(demoEnv(), "/demo/nothing-here.js"), 404, "not-found");
  });

  test("sign-in sets an HttpOnly, SameSite=Lax session cookie holding the app token it returns", async () => {
    const res = await signIn("alice");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { user: { id: string }; token: string; videos: string[]; expiresAt: string; cookie: string };
    expect(body.user.id).toBe("alice");
    expect(body.cookie).toBe("sdg_session");
    const cookie = parseSetCookie(res.headers.get("set-cookie"));
    expect(cookie.name).toBe("sdg_session");
    expect(cookie.value).toBe(body.token);
    expect(cookie.attributes).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Lax", "Path=/", "Secure"]));
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({ sub: "alice", videos: body.videos });
    expect(claims.exp).toBe(Math.floor(Date.parse(body.expiresAt) / 1000));
    expect(decodeJwt(body.token).videos).toContain(KEYNOTE);
  });

  test("the gateway accepts the cookie on GET /v1/videos/:uid/download, and refuses a video the user may not have", async () => {
    const { token } = (await (await signIn("alice")).json()) as { token: string };
    const cookie = `sdg_session=${token}`;
    const granted = await gateway(`/v1/videos/${KEYNOTE}/download`, { headers: { cookie } });
    expect(granted.status).toBe(302);
    expect(new URL(granted.headers.get("location") ?? "").pathname).toMatch(/\/downloads\/default\.mp4$/);

    const refused = await gateway(`/v1/videos/${TRAILER}/download`, { headers: { cookie } });
    await expectProblem(refused, 403, "not-entitled");
  });

  test("the two demo users each meet a video they are not entitled to", async () => {
    const bob = (await (await signIn("bob")).json()) as { token: string; videos: string[] };
    expect(bob.videos).toEqual(expect.arrayContaining([KEYNOTE, TRAILER, CORRUPTED]));
    const alice = (await (await signIn("alice")).json()) as { videos: string[] };
    expect(alice.videos.filter((v) => !bob.videos.includes(v))).not.toEqual([]);
    expect(bob.videos.filter((v) => !alice.videos.includes(v))).not.toEqual([]);
    const res = await gateway(`/v1/videos/${alice.videos.find((v) => !bob.videos.includes(v))}/download-url`, {
      method: "POST",
      token: bob.token,
    });
    await expectProblem(res, 403, "not-entitled");
  });

  test("sign-in refuses an unknown user and a body that is not JSON", async () => {
    const unknown = await expectProblem(await signIn("mallory"), 400, "invalid-request");
    expect(unknown["field"]).toBe("user");
    const form = await callWorker(demoEnv(), "/demo/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "user=alice",
    });
    await expectProblem(form, 400, "invalid-request");
    expect(form.headers.get("set-cookie")).toBeNull();
  });

  test("sign-in needs the HS256 secret: with a JWKS identity provider it is misconfigured", async () => {
    const env = envWith({ DEMO_ENABLED: "true", AUTH_HS256_SECRET: "", AUTH_JWKS_URL: "https://idp.example/jwks" });
    const problem = await expectProblem(await signIn("alice", env), 500, "misconfigured");
    expect(problem["setting"]).toBe("AUTH_HS256_SECRET");
  });

  test("sign-out clears the cookie", async () => {
    const res = await callWorker(demoEnv(), "/demo/sign-out", { method: "POST" });
    expect(res.status).toBe(204);
    const cookie = parseSetCookie(res.headers.get("set-cookie"));
    expect(cookie).toMatchObject({ name: "sdg_session", value: "" });
    expect(cookie.attributes).toContain("Max-Age=0");
  });

  test("GET /demo/users and /demo/videos list the demo users and the account's videos with their state", async () => {
    const users = (await (await callWorker(demoEnv(), "/demo/users")).json()) as { users: { id: string }[] };
    expect(users.users.map((u) => u.id)).toEqual(["alice", "bob"]);
    const res = await callWorker(demoEnv(), "/demo/videos");
    expect(res.status).toBe(200);
    const { videos } = (await res.json()) as { videos: { uid: string; name: string; state: string; readyToStream: boolean }[] };
    expect(videos).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ uid: KEYNOTE, name: "Launch keynote", state: "ready", readyToStream: true }),
        expect.objectContaining({ uid: CORRUPTED, state: "error", errorReasonCode: "ERR_MALFORMED_VIDEO" }),
      ]),
    );
  });
});

describe("the download-button helper", () => {
  test("/assets/stream-download.js is served as cacheable JavaScript that any origin may import", async () => {
    const res = await gateway("/assets/stream-download.js", { headers: { origin: "https://elsewhere.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("public, max-age=600");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const code = await res.text();
    expect(code).toContain("export {");
    expect(code).toContain('customElements.define("stream-download"');
  });

  test("other paths under /assets/ are not served", async () => {
    await expectProblem(await gateway("/assets/demo.js"), 404, "not-found");
    await expectProblem(await gateway("/demo/index.html"), 404, "not-found");
  });

  const throughGateway = (input: string, init: RequestInit) => SELF.fetch(input, init);

  test("streamDownload's request loop follows 202s with their Retry-After, reports progress, and returns the URL", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 3 });
    const progress: DownloadProgress[] = [];
    const started = Date.now();
    const result = await requestDownloadUrl(uid, {
      gateway: GATEWAY,
      getToken: () => appToken(randomUser(), { videos: [uid] }),
      type: "audio",
      onProgress: (p) => progress.push(p),
      fetch: throughGateway,
    });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ status: "inprogress", retryAfter: 2 });
    // It waited as told (POLL_INTERVAL_SECONDS is 2 in the tests) rather than hammering the gateway.
    expect(Date.now() - started).toBeGreaterThanOrEqual(progress.length * 2000 - 100);
    expect(new URL(result.url).pathname).toMatch(/\/downloads\/audio\.m4a$/);
    expect(Date.parse(result.expiresAt)).toBeGreaterThan(Date.now());
    const file = await fetch(result.url);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("audio/mp4");
  });

  test("a refusal is thrown as a StreamDownloadError carrying the problem's type, status and detail", async () => {
    const token = await appToken(randomUser(), { videos: [] });
    const error = await requestDownloadUrl(KEYNOTE, { gateway: GATEWAY, token, fetch: throughGateway }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamDownloadError);
    expect(error).toMatchObject({ type: "not-entitled", status: 403, title: "Not entitled to this video", code: "ERR_STREAM_DOWNLOAD" });
    expect((error as StreamDownloadError).detail).not.toBe("");
    expect((error as StreamDownloadError).problem.instance).toBe(`/v1/videos/${KEYNOTE}/download-url`);
  });

  test("an abort stops the wait at once", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 30 });
    const controller = new AbortController();
    const pending = requestDownloadUrl(uid, {
      gateway: GATEWAY,
      token: await appToken(randomUser(), { videos: [uid] }),
      fetch: throughGateway,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error("user cancelled")),
    });
    await expect(pending).rejects.toThrow("user cancelled");
  });
});
