// The admin API's actions in code (src/admin/actions.ts, `downloads.admin(env)`): a host's own
// handlers grant, revoke, block and read the trail with no HTTP and no admin token.
import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, test } from "vitest";
import { optionsFromEnv, Problem, streamDownloads } from "../../src/library";
import { appToken, callHost, drainAudit, expectProblem, randomUser, readyVideo, shareLinkRow } from "../helpers";

// The admin API is off (no token): the code API needs none.
const hostEnv = { ...env, ADMIN_API_TOKEN: "" } as Env;
const downloads = streamDownloads(optionsFromEnv<Env>);

/** The host app: the gateway at /downloads, and a refund handler of its own that uses the code API. */
const app = new Hono<{ Bindings: Env }>();
app.route("/downloads", downloads);
app.post("/refunds/:user/:video", async (c) => c.json(await downloads.admin(c.env).revokeGrants([{ user: c.req.param("user"), video: c.req.param("video") }])));

const call = (path: string, init: RequestInit & { token?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  return callHost(app, `https://shop.example${path}`, { ...init, headers }, hostEnv);
};

async function linkOf(uid: string, token: string): Promise<string> {
  const res = await call(`/downloads/v1/videos/${uid}/share-links`, { method: "POST", token, headers: { "content-type": "application/json" }, body: '{"expiresIn":3600}' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe("downloads.admin(env)", () => {
  test("grant, then a refund through the host's own route: the grant is gone and the links made under it are revoked", async () => {
    const uid = await readyVideo();
    const user = randomUser();
    const token = await appToken(user);
    const admin = downloads.admin(hostEnv);
    await expectProblem(await call(`/downloads/v1/videos/${uid}/download`, { token }), 403, "not-entitled");

    expect(await admin.grant([{ user, video: uid, expiresAt: new Date(Date.now() + 86_400_000) }])).toEqual({ upserted: 1 });
    expect((await call(`/downloads/v1/videos/${uid}/download`, { token })).status).toBe(302);
    const link = await linkOf(uid, token);

    const refund = await call(`/refunds/${user}/${uid}`, { method: "POST" });
    expect(await refund.json()).toEqual({ deleted: 1, linksRevoked: 1 });
    expect((await shareLinkRow(link)).revoked_at).toEqual(expect.any(Number));
    await expectProblem(await call(`/downloads/v1/videos/${uid}/download`, { token }), 403, "not-entitled");
  });

  test("block and unblock a video, revoke one link or a user's links, and read the trail", async () => {
    const uid = await readyVideo();
    const user = randomUser();
    const token = await appToken(user, { videos: [uid] });
    const admin = downloads.admin(hostEnv);
    const [one, two, three] = [await linkOf(uid, token), await linkOf(uid, token), await linkOf(uid, token)];

    expect(await admin.revokeLink(one)).toEqual({ found: true, revoked: true });
    expect(await admin.revokeLink(one)).toEqual({ found: true, revoked: false });
    expect(await admin.revokeLink("no-such-link")).toEqual({ found: false, revoked: false });
    expect(await admin.revokeLinks({ user })).toEqual({ revoked: 2 });
    for (const id of [two, three]) expect((await shareLinkRow(id)).revoked_at).toEqual(expect.any(Number));

    expect((await call(`/downloads/v1/videos/${uid}/download`, { token })).status).toBe(302);
    expect(await admin.block(uid, "takedown")).toEqual({ linksRevoked: 0 });
    await expectProblem(await call(`/downloads/v1/videos/${uid}/download`, { token }), 403, "not-entitled");
    expect(await admin.unblock(uid)).toEqual({ wasBlocked: true });
    expect((await call(`/downloads/v1/videos/${uid}/download`, { token })).status).toBe(302);

    await drainAudit();
    const page = await admin.audit({ user, limit: 1 });
    expect(page.events).toHaveLength(1);
    expect(page.events[0]).toMatchObject({ user, video: uid, outcome: "granted" });
    expect(page.nextCursor).not.toBeNull();
    const rest = await admin.audit({ user, cursor: page.nextCursor ?? "" });
    expect(rest.events).toHaveLength(1);
    expect(rest.freshness.consumer).toBe("ok");
  });

  test.each([
    ["grant", () => downloads.admin(hostEnv).grant([{ user: "", video: "ab".repeat(16) }]), "0.user"],
    ["grant", () => downloads.admin(hostEnv).grant([]), "grants"],
    // Ids identify refuses: a grant to one would never match anyone.
    ["grant", () => downloads.admin(hostEnv).grant([{ user: "u\ud800", video: "ab".repeat(16) }]), "0.user"],
    ["grant", () => downloads.admin(hostEnv).grant([{ user: "a\nb", video: "ab".repeat(16) }]), "0.user"],
    ["block", () => downloads.admin(hostEnv).block("../../keys"), "video"],
    ["revokeLinks", () => downloads.admin(hostEnv).revokeLinks({ user: "a", video: "ab".repeat(16) } as never), "body"],
    ["audit", () => downloads.admin(hostEnv).audit({ limit: 5000 }), "limit"],
  ])("%s with a bad input throws invalid-request naming the field", async (_, action, field) => {
    const error = await action().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Problem);
    expect((error as Problem).type).toBe("invalid-request");
    expect((error as Problem).options.extensions?.["field"]).toBe(field);
  });
});
