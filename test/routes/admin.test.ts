// The admin API through HTTP (docs/http-api.md): its gate, grants (batch upsert, filtered and paged
// listing, delete), and the effect of revocations and refreshes on the download path.
import { describe, expect, test } from "vitest";
import { counters, seedVideo } from "../emulator/helpers";
import { admin, appToken, download, expectProblem, gateway, randomUser, randomUid } from "../helpers";

const READY = { downloads: { default: "ready", audio: "ready" } };


interface GrantPage {
  grants: { user: string; video: string; expiresAt: string | null }[];
  nextCursor: string | null;
}

async function listGrants(query: string): Promise<GrantPage> {
  const res = await admin("GET", `/v1/admin/grants?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as GrantPage;
}

describe("the admin gate", () => {
  test("both configured admin tokens are accepted (rotation without downtime)", async () => {
    for (const token of ["test-admin-token-one", "test-admin-token-two"]) {
      const res = await gateway(`/v1/admin/grants?user=${randomUser()}`, { token });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ grants: [], nextCursor: null });
    }
  });

  test("a wrong, missing or app-user token is refused with 401 unauthenticated and WWW-Authenticate", async () => {
    const user = await appToken(randomUser(), { videos: "*" });
    for (const token of [undefined, "test-admin-token-three", "test-admin-token-one,test-admin-token-two", user]) {
      const res = await gateway("/v1/admin/grants", {
        method: "PUT",
        token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grants: [{ user: randomUser(), video: randomUid() }] }),
      });
      await expectProblem(res, 401, "unauthenticated", "/v1/admin/grants");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="/);
    }
  });

  test("the kill switch and refresh need the admin token too", async () => {
    const uid = randomUid();
    for (const action of ["block", "unblock", "refresh"]) {
      await expectProblem(await gateway(`/v1/admin/videos/${uid}/${action}`, { method: "POST" }), 401, "unauthenticated");
    }
  });
});

describe("grants", () => {
  test("PUT upserts a batch of up to 1,000; 1,001 is 400 invalid-request", async () => {
    const video = randomUid();
    const batch = (n: number) => Array.from({ length: n }, () => ({ user: randomUser(), video }));
    const ok = await admin("PUT", "/v1/admin/grants", { grants: batch(1000) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ upserted: 1000 });
    expect((await listGrants(`video=${video}&limit=1000`)).grants).toHaveLength(1000);

    const tooMany = await admin("PUT", "/v1/admin/grants", { grants: batch(1001) });
    await expectProblem(tooMany, 400, "invalid-request");
    expect((await listGrants(`video=${video}&limit=1000`)).grants).toHaveLength(1000);
  });

  test("PUT refuses a grant whose video is not a Stream UID", async () => {
    const res = await admin("PUT", "/v1/admin/grants", { grants: [{ user: randomUser(), video: "../keys" }] });
    const body = await expectProblem(res, 400, "invalid-request");
    expect(String(body.field)).toContain("video");
  });

  test("PUT again updates the expiry instead of adding a row", async () => {
    const [user, video] = [randomUser(), randomUid()];
    const expiresAt = "2999-01-01T00:00:00.000Z";
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video }] })).status).toBe(200);
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video, expiresAt }] })).status).toBe(200);
    expect((await listGrants(`user=${user}`)).grants).toEqual([{ user, video, expiresAt }]);
  });

  test("GET filters by user and by video", async () => {
    const [alice, bob] = [randomUser(), randomUser()];
    const [v1, v2] = [randomUid(), randomUid()];
    const grants = [
      { user: alice, video: v1 },
      { user: alice, video: v2 },
      { user: bob, video: v1 },
    ];
    expect((await admin("PUT", "/v1/admin/grants", { grants })).status).toBe(200);

    const byAlice = await listGrants(`user=${alice}`);
    expect(byAlice.grants.map((g) => g.video).sort()).toEqual([v1, v2].sort());
    expect(byAlice.grants.every((g) => g.user === alice && g.expiresAt === null)).toBe(true);
    expect((await listGrants(`video=${v1}`)).grants.map((g) => g.user).sort()).toEqual([alice, bob].sort());
    expect((await listGrants(`user=${bob}&video=${v2}`)).grants).toEqual([]);
  });

  test("GET pages with nextCursor until it is null, without repeats or gaps", async () => {
    const user = randomUser();
    const videos = Array.from({ length: 5 }, randomUid);
    expect((await admin("PUT", "/v1/admin/grants", { grants: videos.map((video) => ({ user, video })) })).status).toBe(200);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: GrantPage = await listGrants(`user=${user}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      sizes.push(page.grants.length);
      seen.push(...page.grants.map((g) => g.video));
      cursor = page.nextCursor;
    } while (cursor !== null && sizes.length < 10);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen.sort()).toEqual([...videos].sort());
  });

  test("GET with a cursor the API never issued is 400 invalid-request", async () => {
    await expectProblem(await admin("GET", "/v1/admin/grants?cursor=not-a-cursor"), 400, "invalid-request");
  });

  test("DELETE removes the listed grants and only those", async () => {
    const user = randomUser();
    const [keep, drop] = [randomUid(), randomUid()];
    const put = await admin("PUT", "/v1/admin/grants", {
      grants: [
        { user, video: keep },
        { user, video: drop },
      ],
    });
    expect(put.status).toBe(200);
    const res = await admin("DELETE", "/v1/admin/grants", { grants: [{ user, video: drop }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 1, linksRevoked: 0 });
    expect((await listGrants(`user=${user}`)).grants.map((g) => g.video)).toEqual([keep]);
  });

  test("revoking a grant takes effect at once for a user whose grant this isolate has cached", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user);
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    expect((await download(uid, { token })).status).toBe(302);
    expect((await download(uid, { token })).status).toBe(302);

    expect((await admin("DELETE", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    await expectProblem(await download(uid, { token }), 403, "not-entitled");
  });

  test("a grant made after a refusal is honoured at once", async () => {
    const { uid } = await seedVideo(READY);
    const user = randomUser();
    const token = await appToken(user);
    await expectProblem(await download(uid, { token }), 403, "not-entitled");
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    expect((await download(uid, { token })).status).toBe(302);
  });
});

describe("videos", () => {
  test("block refuses every user, grant and claim alike; unblock restores both", async () => {
    const { uid } = await seedVideo(READY);
    const granted = randomUser();
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user: granted, video: uid }] })).status).toBe(200);
    const tokens = [await appToken(granted), await appToken(randomUser(), { videos: [uid] })];
    for (const token of tokens) expect((await download(uid, { token })).status).toBe(302);

    const blocked = await admin("POST", `/v1/admin/videos/${uid}/block`, { reason: "legal hold" });
    expect(blocked.status).toBe(200);
    expect(await blocked.json()).toMatchObject({ video: uid, blocked: true });
    for (const token of tokens) await expectProblem(await download(uid, { token }), 403, "not-entitled");

    expect((await admin("POST", `/v1/admin/videos/${uid}/unblock`)).status).toBe(200);
    for (const token of tokens) expect((await download(uid, { token })).status).toBe(302);
  });

  test("block and unblock validate the UID", async () => {
    for (const action of ["block", "unblock", "refresh"]) {
      const body = await expectProblem(await admin("POST", `/v1/admin/videos/..%2Fkeys/${action}`), 400, "invalid-request");
      expect(body.field).toBe("uid");
    }
  });

  test("refresh drops what the gateway knows: the next download asks Stream again", async () => {
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: "*" });
    expect((await download(uid, { token })).status).toBe(302);
    const warm = await counters(uid);
    expect((await download(uid, { token })).status).toBe(302);
    expect((await counters(uid)).api).toBe(warm.api);

    const res = await admin("POST", `/v1/admin/videos/${uid}/refresh`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ video: uid, refreshed: true });
    expect((await download(uid, { token })).status).toBe(302);
    const after = await counters(uid);
    expect(after.api).toBeGreaterThan(warm.api);
    expect(after.byOperation["videos.get"]).toBe((warm.byOperation["videos.get"] ?? 0) + 1);
  });
});
