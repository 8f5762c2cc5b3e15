// Entitlement asked of the app's backend (ENTITLEMENT_URL): the request is signed the Standard
// Webhooks way and verified here by that spec's own library, answers are cached per user and
// video, and anything but a clear answer fails closed.
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import { optionsFromEnv, streamDownloads } from "../../src/library";
import { sleep } from "../emulator/helpers";
import { linkSecret, appToken, callHost, expectProblem, randomUser, readyVideo } from "../helpers";

// Dev-only test secret (Standard Webhooks format: whsec_ and base64 of 32 bytes).
const SECRET = "whsec_dGVzdC1vbmx5LWVudGl0bGVtZW50LXNlY3JldC0wMTI=";
const URL_SETTING = "https://app.example/internal/entitlement";

type Behaviour = "allow" | "deny" | "down" | "500" | "garbage" | "huge" | "redirect";

/** The app's backend: verifies each request with the `standardwebhooks` library, then answers as told. */
function backend(secret = SECRET) {
  const behaviour = new Map<string, Behaviour>();
  const asked: Array<{ user: string; video: string; url: string }> = [];
  const redirectModes: string[] = [];
  const service = {
    async fetch(request: Request): Promise<Response> {
      const body = await request.text();
      const payload = new Webhook(secret).verify(body, Object.fromEntries(request.headers)) as { type: string; user: string; video: string };
      expect(payload.type).toBe("entitlement.check");
      asked.push({ user: payload.user, video: payload.video, url: request.url });
      redirectModes.push(request.redirect);
      switch (behaviour.get(`${payload.user}:${payload.video}`) ?? "deny") {
        case "allow":
          return Response.json({ entitled: true });
        case "deny":
          return Response.json({ entitled: false });
        case "down":
          throw new Error("connection refused");
        case "500":
          return new Response("oops", { status: 500 });
        case "garbage":
          return Response.json({ ok: "yes" });
        case "huge":
          return new Response(`{"entitled": true, "padding": "${"x".repeat(100_000)}"}`, { headers: { "content-type": "application/json" } });
        case "redirect":
          return new Response(null, { status: 307, headers: { location: "https://elsewhere.example/yes" } });
      }
    },
  };
  return { behaviour, asked, redirectModes, service: service as unknown as Fetcher };
}

function hostFor(app: ReturnType<typeof backend> | null, settings: Record<string, string> = {}) {
  const gateway = streamDownloads((e: Env) => ({
    ...optionsFromEnv({ ...e, ENTITLEMENT_URL: URL_SETTING, ENTITLEMENT_SECRET: SECRET, ...settings }),
    bindings: app === null ? e : { ...e, ENTITLEMENT_SERVICE: app.service },
  }));
  // One env object for the host's calls: Workers hand an isolate the same env, and the gateway
  // (with its cache) is built once per env.
  const hostEnv = { ...env } as Env;
  return (path: string, init: RequestInit & { user?: string } = {}) =>
    (async () => {
      const { user, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (user) headers.set("authorization", `Bearer ${await appToken(user)}`);
      return callHost(gateway, `https://gateway.test${path}`, { ...rest, headers }, hostEnv);
    })();
}

describe("entitlement by callback (ENTITLEMENT_URL)", () => {
  test("the backend's yes lets the user download; the signed question names user and video; the answer is cached", async () => {
    const app = backend();
    const call = hostFor(app);
    const uid = await readyVideo();
    const user = randomUser();
    app.behaviour.set(`${user}:${uid}`, "allow");

    expect((await call(`/v1/videos/${uid}/download`, { user })).status).toBe(302);
    expect((await call(`/v1/videos/${uid}/download`, { user })).status).toBe(302);
    expect(app.asked).toEqual([{ user, video: uid, url: URL_SETTING }]);
    // A redirect would carry the signed question elsewhere: never followed.
    expect(app.redirectModes).toEqual(["manual"]);
  });

  test("the backend's no is a 403; a videos claim in the token does not override it", async () => {
    const app = backend();
    const call = hostFor(app);
    const uid = await readyVideo();
    const user = randomUser();
    const headers = { authorization: `Bearer ${await appToken(user, { videos: [uid] })}` };
    await expectProblem(await call(`/v1/videos/${uid}/download`, { headers }), 403, "not-entitled");
    expect(app.asked).toHaveLength(1);
  });

  test.each<Behaviour>(["down", "500", "garbage", "huge", "redirect"])("a backend that is %s fails closed with a retryable 503, and is not asked again at once", async (behaviour) => {
    const app = backend();
    const call = hostFor(app);
    const uid = await readyVideo();
    const user = randomUser();
    app.behaviour.set(`${user}:${uid}`, behaviour);
    const res = await call(`/v1/videos/${uid}/download`, { user });
    const problem = await expectProblem(res, 503, "upstream-unavailable");
    expect(problem.detail).toMatch(/could not say whether you may download/);
    expect(res.headers.get("retry-after")).toBe("5");
    await expectProblem(await call(`/v1/videos/${uid}/download`, { user }), 503, "upstream-unavailable");
    expect(app.asked).toHaveLength(1);
  });

  test("after an outage's Retry-After the backend is asked again, and its yes counts", async () => {
    const app = backend();
    const call = hostFor(app);
    const uid = await readyVideo();
    const user = randomUser();
    app.behaviour.set(`${user}:${uid}`, "down");
    await expectProblem(await call(`/v1/videos/${uid}/download`, { user }), 503, "upstream-unavailable");
    app.behaviour.set(`${user}:${uid}`, "allow");
    await sleep(5100);
    expect((await call(`/v1/videos/${uid}/download`, { user })).status).toBe(302);
    expect(app.asked).toHaveLength(2);
  }, 15_000);

  test("concurrent requests for one user and video share one question", async () => {
    const app = backend();
    const call = hostFor(app);
    const uid = await readyVideo();
    const user = randomUser();
    // Someone else's download first, so that the gateway knows the file is ready.
    const first = randomUser();
    app.behaviour.set(`${first}:${uid}`, "allow");
    expect((await call(`/v1/videos/${uid}/download`, { user: first })).status).toBe(302);
    app.behaviour.set(`${user}:${uid}`, "allow");
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(`/v1/videos/${uid}/download`, { user })));
    expect(answers.map((res) => res.status)).toEqual([302, 302, 302, 302, 302]);
    expect(app.asked.filter((question) => question.user === user)).toHaveLength(1);
  });

  test("a backend that cannot verify the signature (another secret) refuses, and the gateway fails closed", async () => {
    const stranger = backend("whsec_" + btoa("a-different-secret-of-32-bytes!!"));
    const call = hostFor(stranger);
    const uid = await readyVideo();
    await expectProblem(await call(`/v1/videos/${uid}/download`, { user: randomUser() }), 503, "upstream-unavailable");
    expect(stranger.asked).toEqual([]);
  });

  test("without a service binding the URL is fetched; an answer that is not one fails closed", async () => {
    // Outbound fetches reach the Stream emulator in tests, which has no such route: a 404.
    const call = hostFor(null);
    const uid = await readyVideo();
    await expectProblem(await call(`/v1/videos/${uid}/download`, { user: randomUser() }), 503, "upstream-unavailable");
  });

  test("a share link made under the backend's yes dies when the backend says no", async () => {
    const app = backend();
    const call = hostFor(app, { ENTITLEMENT_CACHE_SECONDS: "0" });
    const uid = await readyVideo();
    const user = randomUser();
    app.behaviour.set(`${user}:${uid}`, "allow");
    const created = await call(`/v1/videos/${uid}/share-links`, {
      method: "POST",
      user,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "default", expiresIn: 3600, delivery: "redirect" }),
    });
    expect(created.status).toBe(201);
    const id = linkSecret(await created.json());
    expect((await call(`/s/${id}?mode=redirect`, { method: "POST" })).status).toBe(302);
    app.behaviour.set(`${user}:${uid}`, "deny");
    await expectProblem(await call(`/s/${id}?mode=redirect`, { method: "POST" }), 410, "link-paused");
  });

  test.each([
    [{ ENTITLEMENT_SECRET: "" }, "ENTITLEMENT_SECRET"],
    [{ ENTITLEMENT_SECRET: "whsec_c2hvcnQ=" }, "ENTITLEMENT_SECRET"],
    [{ ENTITLEMENT_URL: "http://app.example/check" }, "ENTITLEMENT_URL"],
  ])("a bad setting is named: %o", async (settings, setting) => {
    const call = hostFor(backend(), settings);
    const problem = await expectProblem(await call(`/v1/videos/${"ab".repeat(16)}/download`, { user: randomUser() }), 500, "misconfigured");
    expect(problem.setting).toBe(setting);
  });
});
