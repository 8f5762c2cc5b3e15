// The HTTP surface around the download path (docs/http-api.md): unknown routes, CORS for the
// configured web app only, HTML error pages for browsers, and malformed bodies answered as 400.
import { describe, expect, test } from "vitest";
import { seedVideo } from "../emulator/helpers";
import { ADMIN_TOKEN, appToken, expectProblem, gateway, randomUser, randomUid } from "../helpers";
import { loggedPath } from "../../src/routes/respond";

const APP = "https://app.example";

function preflight(path: string, origin: string, method = "GET"): Promise<Response> {
  return gateway(path, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization" },
  });
}

describe("routes", () => {
  test.each(["/v1", "/v1/videos", "/v1/videos/%2e%2e/download/x", "/.env", "/v2/videos/x/download"])(
    "unknown route %s: 404 not-found as problem+json",
    async (path) => {
      await expectProblem(await gateway(path), 404, "not-found");
    },
  );

  test("a known path with an unsupported method is not a 500", async () => {
    const res = await gateway(`/v1/videos/${randomUid()}/download`, { method: "DELETE" });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await res.arrayBuffer();
  });
});

describe("CORS", () => {
  test("a preflight from the configured app origin is allowed, with credentials", async () => {
    for (const [path, method] of [
      [`/v1/videos/${randomUid()}/download`, "GET"],
      [`/v1/videos/${randomUid()}/download-url`, "POST"],
    ] as const) {
      const res = await preflight(path, APP, method);
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      expect(res.headers.get("access-control-allow-methods")).toContain(method);
      expect((res.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("authorization");
      expect(res.headers.get("vary") ?? "").toMatch(/origin/i);
    }
  });

  test("a preflight from another origin gets no CORS header at all: no allow-origin, no credentials, no methods", async () => {
    for (const origin of ["https://evil.example", "https://app.example.evil.example", "http://app.example", "null"]) {
      const res = await preflight(`/v1/videos/${randomUid()}/download`, origin);
      for (const name of ["allow-origin", "allow-credentials", "allow-methods", "allow-headers"]) {
        expect(res.headers.get(`access-control-${name}`)).toBeNull();
      }
    }
  });

  test("an actual request from the app origin is answered with its origin echoed; another origin's is not", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    const token = await appToken(randomUser(), { videos: "*" });
    const ok = await gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token, headers: { origin: APP } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    await ok.arrayBuffer();
    const evil = await gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token, headers: { origin: "https://evil.example" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("access-control-allow-credentials")).toBeNull();
    expect(evil.headers.get("access-control-expose-headers")).toBeNull();
    await evil.arrayBuffer();
    const noOrigin = await gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token });
    expect(noOrigin.headers.get("access-control-allow-credentials")).toBeNull();
    await noOrigin.arrayBuffer();
  });
});

describe("browsers get HTML error pages", () => {
  const browser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

  function expectHtmlPage(res: Response): void {
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  }

  test("401, 403 and 404 as small HTML pages with CSP and no-referrer", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    const cases: [Promise<Response>, number][] = [
      [gateway(`/v1/videos/${uid}/download`, { headers: browser }), 401],
      [gateway(`/v1/videos/${uid}/download`, { headers: browser, token: await appToken(randomUser()) }), 403],
      [gateway("/nowhere", { headers: browser }), 404],
    ];
    for (const [pending, status] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expectHtmlPage(res);
      const html = await res.text();
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html).not.toContain("<script");
    }
  });

  test("a detail carrying client input is escaped in the page", async () => {
    const key = '<script>alert("x")</script>';
    const res = await gateway(`/v1/videos/${randomUid()}/download-url`, {
      method: "POST",
      token: await appToken(randomUser(), { videos: "*" }),
      headers: { ...browser, "content-type": "application/json" },
      body: JSON.stringify({ [key]: 1 }),
    });
    expect(res.status).toBe(400);
    expectHtmlPage(res);
    const html = await res.text();
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;");
  });

  test("the page for an invalid uid carries no markup from the path", async () => {
    const res = await gateway(`/v1/videos/${encodeURIComponent('"><img src=x onerror=alert(1)>')}/download`, { headers: browser });
    expect(res.status).toBe(400);
    expectHtmlPage(res);
    const html = await res.text();
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain("invalid-request");
  });
});

describe("malformed bodies are 400 invalid-request, never 500", () => {
  const uid = randomUid();
  const json = { "content-type": "application/json" };

  async function userPost(body: BodyInit, headers: Record<string, string> = json): Promise<Response> {
    return gateway(`/v1/videos/${uid}/download-url`, { method: "POST", body, headers, token: await appToken(randomUser(), { videos: "*" }) });
  }

  function adminCall(method: string, path: string, body: BodyInit, headers: Record<string, string> = json): Promise<Response> {
    return gateway(path, { method, body, headers, token: ADMIN_TOKEN });
  }

  test.each([
    ["not JSON", "{not json"],
    ["truncated JSON", '{"type":'],
    ["a JSON array", "[1,2,3]"],
    ["a JSON string", '"default"'],
    ["an unknown field", JSON.stringify({ type: "default", url: "https://evil.example" })],
    ["a wrong type", JSON.stringify({ type: "video" })],
    ["a filename that is not a string", JSON.stringify({ filename: { $gt: "" } })],
  ])("POST download-url with %s", async (_, body) => {
    await expectProblem(await userPost(body), 400, "invalid-request");
  });

  test("POST download-url with a too large body: 413 payload-too-large, naming the cap", async () => {
    const body = await expectProblem(await userPost(JSON.stringify({ filename: "x".repeat(10_000) })), 413, "payload-too-large");
    expect(body.maxBytes).toBe(4096);
  });

  test("POST download-url with a body that is not declared as JSON", async () => {
    await expectProblem(await userPost("type=default", { "content-type": "application/x-www-form-urlencoded" }), 400, "invalid-request");
  });

  test("POST download-url with a 1 MB body: 413", async () => {
    const big = JSON.stringify({ type: "default", pad: "x".repeat(1_000_000) });
    await expectProblem(await userPost(big), 413, "payload-too-large");
  });

  test.each([
    ["not JSON", "{not json"],
    ["null", "null"],
    ["an empty object", "{}"],
    ["grants that is not an array", JSON.stringify({ grants: "all" })],
    ["a grant without a user", JSON.stringify({ grants: [{ video: randomUid() }] })],
    ["a bad expiry", JSON.stringify({ grants: [{ user: "u", video: randomUid(), expiresAt: "tomorrow" }] })],
  ])("PUT /v1/admin/grants with %s", async (_, body) => {
    await expectProblem(await adminCall("PUT", "/v1/admin/grants", body), 400, "invalid-request");
  });

  test("PUT /v1/admin/grants with a too large body: 413", async () => {
    const body = JSON.stringify({ grants: [{ user: "x".repeat(300_000), video: randomUid() }] });
    await expectProblem(await adminCall("PUT", "/v1/admin/grants", body), 413, "payload-too-large");
  });

  test.each([
    ["DELETE", "/v1/admin/grants", "{not json"],
    ["DELETE", "/v1/admin/grants", JSON.stringify({ grants: [] })],
    ["POST", `/v1/admin/videos/${uid}/block`, "{not json"],
    ["POST", `/v1/admin/videos/${uid}/block`, JSON.stringify({ reason: 42 })],
  ])("%s %s with a malformed body", async (method, path, body) => {
    await expectProblem(await adminCall(method, path, body), 400, "invalid-request");
  });

  test.each([
    ["an unknown type", "?type=video"],
    ["an unknown mode", "?mode=inline"],
  ])("GET download with %s in the query", async (_, query) => {
    const res = await gateway(`/v1/videos/${uid}/download${query}`, { token: await appToken(randomUser(), { videos: "*" }) });
    await expectProblem(res, 400, "invalid-request");
  });
});

describe("log lines name no capability", () => {
  test.each([
    ["https://gw.test/s/aMOrB1cDeFgHiJkLmNoPqRsTuVwXyZ012345", "/s/aMOr…"],
    ["https://gw.test/downloads/s/aMOrB1cDeFgHiJkLmNoPqRsTuVwXyZ012345/poster.jpg", "/downloads/s/aMOr…/poster.jpg"],
    ["https://gw.test/v1/share-links/aMOrB1cDeFgHiJkLmNoPqRsTuVwXyZ012345/uses?cursor=x", "/v1/share-links/aMOr…/uses"],
    ["https://gw.test/v1/admin/share-links/aMOrB1cDeFgHiJkLmNoPqRsTuVwXyZ012345", "/v1/admin/share-links/aMOr…"],
    // A public id opens nothing: shown whole, so that a log line finds the link.
    ["https://gw.test/v1/share-links/R8eGzglzEJ2Pu0f4HY7K3Q/reinstate", "/v1/share-links/R8eGzglzEJ2Pu0f4HY7K3Q/reinstate"],
    ["https://gw.test/d/eyJhbGciOiJIUzI1NiJ9.eyJ0IjoxfQ.c2ln", "/d/…"],
    ["https://gw.test/v1/videos/c0ffee00000000000000000000000001/share-links", "/v1/videos/c0ffee00000000000000000000000001/share-links"],
  ])("%s is logged as %s", (url, logged) => {
    expect(loggedPath(url)).toBe(logged);
  });
});
