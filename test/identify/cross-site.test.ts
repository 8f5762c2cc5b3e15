// Cross-site forgery refused by the gateway itself (src/identify/cross-site.ts), before any
// identify runs: here an app's identify hook that reads its session cookie whatever `allowCookie`
// says, the shortcut that made the POST routes forgeable.
import { loggedPath } from "../../src/routes/respond";
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { optionsFromEnv, streamDownloads } from "../../src/library";
import { linkSecret, auditCount, callHost, expectProblem, readyVideo, shareLinkRow } from "../helpers";

const SHOP = "https://shop.example";
/** CORS_ORIGINS in the test configuration (vitest.config.ts): the app's own web origin. */
const APP_ORIGIN = "https://app.example";

const careless = streamDownloads((e: Env) => ({
  ...optionsFromEnv(e),
  identify: async (c) => {
    const id = /(?:^|; )session=([^;]+)/.exec(c.req.header("cookie") ?? "")?.[1];
    return id ? { id } : null;
  },
  entitle: () => true,
}));

/** A request carrying the buyer's session cookie, with the headers a browser would add. */
function withCookie(user: string, path: string, init: RequestInit & { browser?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  headers.set("cookie", `session=${user}`);
  for (const [name, value] of Object.entries(init.browser ?? {})) headers.set(name, value);
  return callHost(careless, `${SHOP}${path}`, { ...init, headers });
}

const FOREIGN = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };

async function linkOf(user: string, uid: string): Promise<string> {
  const created = await withCookie(user, `/v1/videos/${uid}/share-links`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600, delivery: "redirect" }),
  });
  expect(created.status).toBe(201);
  // The secret: the owner API takes it too, as an app from before public ids would send it.
  return linkSecret(await created.json());
}

describe("an identify hook that always reads its cookie", () => {
  test("cannot be driven by another site: text/plain reinstate, form revoke, form download-url, link creation and a navigation are 403", async () => {
    const uid = await readyVideo();
    const user = `victim-${crypto.randomUUID()}`;
    const id = await linkOf(user, uid);
    await env.DB.prepare("UPDATE share_links SET suspended_at = ?2, suspended_networks = 3 WHERE secret = ?1").bind(id, Date.now()).run();

    const attempts: Array<[string, RequestInit]> = [
      [`/v1/share-links/${id}/reinstate`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }],
      [`/v1/share-links/${id}`, { method: "DELETE" }],
      [`/v1/videos/${uid}/download-url`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "type=default" }],
      [`/v1/videos/${uid}/share-links`, { method: "POST", headers: { "content-type": "text/plain" }, body: '{"expiresIn":3600}' }],
      [`/v1/videos/${uid}/download`, {}],
    ];
    for (const [path, init] of attempts) {
      const problem = await expectProblem(await withCookie(user, path, { ...init, browser: FOREIGN }), 403, "cross-site-request");
      // A secret in the path is cut, as in a log line.
      expect(problem.instance).toBe(loggedPath(`https://gateway.test${path}`));
    }
    // A navigation carries no Origin: Sec-Fetch-Site alone says another site started it.
    await expectProblem(await withCookie(user, `/v1/videos/${uid}/download`, { browser: { "sec-fetch-site": "cross-site" } }), 403, "cross-site-request");
    // A sibling subdomain's navigation or image: same-site, but its Referer is not the app's (or is withheld).
    await expectProblem(
      await withCookie(user, `/v1/videos/${uid}/download`, { browser: { "sec-fetch-site": "same-site", referer: "https://forum.example/thread" } }),
      403,
      "cross-site-request",
    );
    await expectProblem(await withCookie(user, `/v1/videos/${uid}/download`, { browser: { "sec-fetch-site": "same-site" } }), 403, "cross-site-request");
    // Origin "null" (a sandboxed frame) is nobody's origin.
    await expectProblem(await withCookie(user, `/v1/share-links/${id}`, { method: "DELETE", browser: { origin: "null" } }), 403, "cross-site-request");

    expect(await shareLinkRow(id)).toMatchObject({ revoked_at: null });
    expect((await env.DB.prepare("SELECT suspended_at FROM share_links WHERE secret = ?1").bind(id).first<{ suspended_at: number | null }>())?.suspended_at).not.toBeNull();
    expect((await env.DB.prepare("SELECT count(*) AS n FROM share_links WHERE creator = ?1").bind(user).first<{ n: number }>())?.n).toBe(1);
    expect(await auditCount("user_id = ?1", user)).toBe(0);
  });

  test("the app's own origins, this origin, a same-site navigation and non-browser clients still act", async () => {
    const uid = await readyVideo();
    const user = `buyer-${crypto.randomUUID()}`;
    const fromApp = { origin: APP_ORIGIN, "sec-fetch-site": "cross-site" };
    const ownOrigin = { origin: SHOP, "sec-fetch-site": "same-origin" };

    const url = await withCookie(user, `/v1/videos/${uid}/download-url`, { method: "POST", browser: fromApp });
    expect(url.status).toBe(200);
    expect(url.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect((await withCookie(user, `/v1/videos/${uid}/download-url`, { method: "POST", browser: ownOrigin })).status).toBe(200);
    expect((await withCookie(user, `/v1/videos/${uid}/download`, { browser: { "sec-fetch-site": "same-site", referer: `${APP_ORIGIN}/library` } })).status).toBe(302);
    expect((await withCookie(user, `/v1/videos/${uid}/download`)).status).toBe(302);

    const id = await linkOf(user, uid);
    expect((await withCookie(user, `/v1/share-links/${id}`, { method: "DELETE", browser: ownOrigin })).status).toBe(204);
    expect(await auditCount("user_id = ?1", user)).toBe(4);
  });

  test("the anonymous share-link redeem is exempt: a link posted anywhere works from any site", async () => {
    const uid = await readyVideo();
    const id = await linkOf(`creator-${crypto.randomUUID()}`, uid);
    const redeemed = await callHost(careless, `${SHOP}/s/${id}?mode=redirect`, { method: "POST", headers: FOREIGN });
    expect(redeemed.status).toBe(302);
  });
});
