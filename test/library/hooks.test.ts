// The app's hooks fail closed (src/app/hooks.ts): only the documented answers let anyone through,
// a host's own HTTPException keeps its 4xx, and a hook that throws or hangs hands out nothing.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { afterEach, describe, expect, test, vi } from "vitest";
import { optionsFromEnv, streamDownloads, type StreamDownloadsOptions } from "../../src/library";
import { linkSecret, auditCount, callHost, expectProblem, readyVideo, type ProblemBody } from "../helpers";

type Options = Partial<StreamDownloadsOptions<Env>>;

/** A host whose hooks are these, the gateway mounted at its root; `x-session` names the user. */
function shop(hooks: Options) {
  return streamDownloads((e: Env) => ({
    ...optionsFromEnv(e),
    identify: async (c) => {
      const id = c.req.header("x-session");
      return id ? { id } : null;
    },
    ...hooks,
  }));
}

const userNamed = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

function download(host: ReturnType<typeof shop>, uid: string, user: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (user !== null) headers.set("x-session", user);
  return callHost(host, `https://shop.example/v1/videos/${uid}/download`, { ...init, headers });
}

const misconfigurationLines = (spy: { mock: { calls: unknown[][] } }, hook: string) =>
  spy.mock.calls.filter((args) => String(args[0]).startsWith(`misconfigured: the ${hook} hook`)).length;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("entitle", () => {
  test.each([
    ["false", false],
    ["undefined", undefined],
    ["0", 0],
    ['""', ""],
    ['"yes"', "yes"],
    ["an object", { entitled: true }],
    ["1", 1],
  ])("an answer of %s never hands out a download, and the misconfiguration is logged once", async (_, answer) => {
    const uid = await readyVideo();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const host = shop({ entitle: async () => answer as never });
    const user = userNamed("entitle");
    for (let i = 0; i < 3; i++) await expectProblem(await download(host, uid, user), 403, "not-entitled");
    const created = await callHost(host, `https://shop.example/v1/videos/${uid}/share-links`, {
      method: "POST",
      headers: { "x-session": user, "content-type": "application/json" },
      body: JSON.stringify({ expiresIn: 3600 }),
    });
    await expectProblem(created, 403, "not-entitled");
    expect(await auditCount("user_id = ?1", user)).toBe(0);
    // false is a plain no; any other stray answer is named as the app's mistake, once per isolate.
    expect(misconfigurationLines(errors, "entitle")).toBe(answer === false ? 0 : 1);
  });

  test("null is a plain no, true a revocable yes: a link made under it dies when true turns false", async () => {
    const uid = await readyVideo();
    const holders = new Set<string>();
    const errors = vi.spyOn(console, "error");
    const host = shop({ entitle: (user) => holders.has(user.id) });
    const buyer = userNamed("buyer");
    await expectProblem(await download(host, uid, buyer), 403, "not-entitled");
    holders.add(buyer);
    expect((await download(host, uid, buyer)).status).toBe(302);
    const created = await callHost(host, `https://shop.example/v1/videos/${uid}/share-links`, {
      method: "POST",
      headers: { "x-session": buyer, "content-type": "application/json" },
      body: JSON.stringify({ expiresIn: 3600, maxDownloads: 5, delivery: "redirect" }),
    });
    expect(created.status).toBe(201);
    const id = linkSecret(await created.json());
    expect((await callHost(host, `https://shop.example/s/${id}?mode=redirect`, { method: "POST" })).status).toBe(302);
    holders.delete(buyer);
    await expectProblem(await callHost(host, `https://shop.example/s/${id}?mode=redirect`, { method: "POST" }), 410, "link-paused");
    expect(misconfigurationLines(errors, "entitle")).toBe(0);
  });

  test("a host's HTTPException with a 4xx keeps its status; any other throw is a 503 that hands out nothing", async () => {
    const uid = await readyVideo();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const user = userNamed("thrower");
    const paymentRequired = shop({
      entitle: () => {
        throw new HTTPException(402, { message: "Buy it first." });
      },
    });
    const refused = await download(paymentRequired, uid, user);
    expect(refused.status).toBe(402);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ type: "about:blank", status: 402, detail: "Buy it first." });

    const ownResponse = shop({
      entitle: () => {
        throw new HTTPException(401, { res: new Response("sign in again", { headers: { "x-host": "yes" } }) });
      },
    });
    const own = await download(ownResponse, uid, user);
    expect([own.status, own.headers.get("x-host"), await own.text()]).toEqual([401, "yes", "sign in again"]);

    const broken = shop({
      entitle: async () => {
        throw new TypeError("purchases is not defined");
      },
    });
    const failed = await expectProblem(await download(broken, uid, user), 503, "upstream-unavailable");
    expect(failed.detail).toMatch(/entitle hook failed/);
    expect(failed.retryAfter).toBeGreaterThan(0);

    const serverError = shop({
      entitle: () => {
        throw new HTTPException(500, { message: "db down" });
      },
    });
    await expectProblem(await download(serverError, uid, user), 503, "upstream-unavailable");
    expect(await auditCount("user_id = ?1", user)).toBe(0);
  });

  test("an entitle hook that never answers is a 503 after hookTimeoutMs", async () => {
    const uid = await readyVideo();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const host = shop({ entitle: () => new Promise<never>(() => {}), hookTimeoutMs: 50 });
    const user = userNamed("hang");
    const problem = await expectProblem(await download(host, uid, user), 503, "upstream-unavailable");
    expect(problem.detail).toMatch(/no answer within 50 ms/);
    expect(await auditCount("user_id = ?1", user)).toBe(0);
  });

  test.each([0, -1, 1.5, 60_001, "100"])("hookTimeoutMs %j is a misconfiguration that names it", async (hookTimeoutMs) => {
    const host = shop({ entitle: () => true, hookTimeoutMs: hookTimeoutMs as number });
    const problem = await expectProblem(await download(host, "ab".repeat(16), "u"), 500, "misconfigured");
    expect(problem.setting).toBe("hookTimeoutMs");
  });
});

describe("identify", () => {
  test.each([
    ["undefined", undefined],
    ["a string", "user-1"],
    ["an id of the wrong type", { id: 42 }],
    ["an empty id", { id: "" }],
    ["a 257-character id", { id: "x".repeat(257) }],
    ["an id with a line break", { id: "line\nbreak" }],
    ["an id with a lone surrogate", { id: "user-\ud800" }],
    ["claims that are not an object", { id: "user-1", claims: "admin" }],
  ])("an answer of %s is a 401 and a logged misconfiguration", async (_, answer) => {
    const uid = await readyVideo();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const host = shop({ identify: async () => answer as never, entitle: () => true });
    await expectProblem(await download(host, uid, null), 401, "unauthenticated");
    await expectProblem(await download(host, uid, null), 401, "unauthenticated");
    expect(misconfigurationLines(errors, "identify")).toBe(1);
  });

  test("a user without claims is a user; a host's HTTPException(401) keeps its status; a throw is a 503", async () => {
    const uid = await readyVideo();
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect((await download(shop({ identify: () => ({ id: userNamed("bare") }), entitle: () => "claim" }), uid, null)).status).toBe(302);

    const expired = shop({
      identify: () => {
        throw new HTTPException(401, { message: "Your session expired." });
      },
      entitle: () => true,
    });
    const refused = await download(expired, uid, null);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ProblemBody).detail).toBe("Your session expired.");

    const broken = shop({
      identify: () => {
        throw new Error("session store unreachable");
      },
      entitle: () => true,
    });
    await expectProblem(await download(broken, uid, null), 503, "upstream-unavailable");
  });
});

describe("stillEntitled", () => {
  test.each([["undefined", undefined], ['"yes"', "yes"], ["1", 1], ["false", false]])(
    "an answer of %s refuses the creator's link, and only a stray answer is logged",
    async (_, answer) => {
      const uid = await readyVideo();
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const host = shop({ entitle: () => "grant", stillEntitled: async () => answer as never });
      const created = await callHost(host, `https://shop.example/v1/videos/${uid}/share-links`, {
        method: "POST",
        headers: { "x-session": userNamed("creator"), "content-type": "application/json" },
        body: JSON.stringify({ expiresIn: 3600, delivery: "redirect" }),
      });
      const id = linkSecret(await created.json());
      await expectProblem(await callHost(host, `https://shop.example/s/${id}?mode=redirect`, { method: "POST" }), 410, "link-paused");
      expect(misconfigurationLines(errors, "stillEntitled")).toBe(answer === false ? 0 : 1);
    },
  );
});

describe("a Problem is Hono's HTTPException", () => {
  test("a host's own onError and Hono's default handler render the gateway's problems", async () => {
    const { unauthenticated } = await import("../../src/library");
    const host = new Hono();
    host.get("/mine", () => {
      throw unauthenticated("no session");
    });
    const res = await host.request("/mine");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: "unauthenticated", status: 401, detail: "no session" });
    expect(unauthenticated("x")).toBeInstanceOf(HTTPException);
  });
});
