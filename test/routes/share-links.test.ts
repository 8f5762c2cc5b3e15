// Share links from the creator's side and the admin's (docs/http-api.md): create, list, revoke,
// bulk revoke, the kill switch, links made under a D1 grant, and expiry at the exact boundary
// with an injected clock. The visitor's side (/s/:id) is in share-page.test.ts. Every test seeds
// its own video and uses fresh users.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { findForOwner } from "../../src/share-links/store";
import { gatewayOf } from "../../src/index";
import { linkProblem } from "../../src/share-links/status";
import { seedVideo } from "../emulator/helpers";
import {
  GATEWAY,
  admin,
  appToken,
  createShareLink,
  drainAudit,
  expectProblem,
  gateway,
  randomUser,
  shareLinkRow,
  type ProblemBody,
  randomUid,
} from "../helpers";

const QUARTERLY = { name: "Quarterly review", downloads: { default: "ready", audio: "ready" } };
const MAX_TTL = 604_800;


/** A user entitled to `uid` by the `videos` claim of their app token. */
async function creator(uid: string): Promise<{ user: string; token: string }> {
  const user = randomUser();
  return { user, token: await appToken(user, { videos: [uid] }) };
}

function postCreate(uid: string, body: unknown, init: { token?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return gateway(`/v1/videos/${uid}/share-links`, {
    method: "POST",
    token: init.token,
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
  });
}

/** The visitor's download click, as JSON, from GB (the country one of the links below is limited to). */
const click = (id: string) => gateway(`/s/${id}`, { method: "POST", headers: { "cf-ipcountry": "GB" } });

interface ListedLink {
  id: string;
  url: string;
  video: string;
  type: string;
  createdAt: string;
  expiresAt: string;
  maxDownloads: number | null;
  uses: number;
  remaining: number | null;
  countries: string[] | null;
  lockToIp: boolean;
  passwordProtected: boolean;
  note: string | null;
  status: string;
}

interface LinkPage {
  links: ListedLink[];
  nextCursor: string | null;
}

async function listLinks(token: string, query = ""): Promise<LinkPage> {
  const res = await gateway(`/v1/share-links${query}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as LinkPage;
}

const withoutInstance = ({ instance: _instance, ...rest }: ProblemBody) => rest;

describe("create", () => {
  test("201 {id, url, expiresAt}: a 32-character base64url id (192 random bits) and a url ending in /s/<id>", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const before = Date.now();
    const res = await postCreate(uid, { type: "default", expiresIn: 3600 }, { token });
    const after = Date.now();
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { id: string; url: string; delivery: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(["delivery", "expiresAt", "id", "url"]);
    expect(body.delivery).toBe("gateway");
    // The URL carries the secret; the id is its digest, which opens nothing.
    const secret = new URL(body.url).pathname.split("/").pop() ?? "";
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.url).toBe(`${GATEWAY}/s/${secret}`);
    await expectProblem(await gateway(`/s/${body.id}`, { method: "POST" }), 404, "not-found");
    const expiresAt = Date.parse(body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 3_600_000);

    const other = await createShareLink(uid, token);
    expect(other.id).not.toBe(body.id);
  });

  test("expiresIn up to SHARE_LINK_MAX_TTL is accepted; one second more is 400 invalid-request naming expiresIn", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    expect((await postCreate(uid, { type: "default", expiresIn: MAX_TTL }, { token })).status).toBe(201);
    const res = await postCreate(uid, { type: "default", expiresIn: MAX_TTL + 1 }, { token });
    expect((await expectProblem(res, 400, "invalid-request")).field).toBe("expiresIn");
    expect((await listLinks(token)).links).toHaveLength(1);
  });

  test("countries in lower case are taken as their ISO codes: gb is stored as GB", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const link = await createShareLink(uid, token, { countries: ["gb"] });
    expect(JSON.parse((await shareLinkRow(link.id)).countries ?? "null")).toEqual(["GB"]);
  });

  // docs/design.md: submitted codes are validated as ISO 3166-1 alpha-2. "UK" has the right shape but
  // is not an assigned code (the United Kingdom is GB).
  test.each(["G1", "UK", "GBR", ""])("country code %j is not ISO 3166-1 alpha-2: 400 invalid-request naming countries", async (code) => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const res = await postCreate(uid, { type: "default", expiresIn: 3600, countries: [code] }, { token });
    expect((await expectProblem(res, 400, "invalid-request")).field).toMatch(/^countries/);
  });

  test("a user neither claimed nor granted the video: 403 not-entitled, and an unknown video looks the same", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const token = await appToken(randomUser(), { videos: [randomUid()] });
    const refused = await expectProblem(await postCreate(uid, { type: "default", expiresIn: 3600 }, { token }), 403, "not-entitled");
    const everything = await appToken(randomUser(), { videos: "*" });
    const unknown = await expectProblem(
      await postCreate(randomUid(), { type: "default", expiresIn: 3600 }, { token: everything }),
      403,
      "not-entitled",
    );
    expect(withoutInstance(unknown)).toEqual(withoutInstance(refused));
    expect((await listLinks(token)).links).toEqual([]);
  });

  test("the session cookie alone is 401 unauthenticated: creating a link needs the bearer header", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const res = await postCreate(uid, { type: "default", expiresIn: 3600 }, { headers: { cookie: `sdg_session=${token}` } });
    await expectProblem(res, 401, "unauthenticated");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await listLinks(token)).links).toEqual([]);
  });

  test("a password is stored as a PBKDF2-SHA256 hash, never as itself, and never listed", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const password = "correct horse battery staple";
    const link = await createShareLink(uid, token, { password });
    const { password_hash: hash } = await shareLinkRow(link.id);
    expect(hash).toMatch(/^pbkdf2-sha256\$/);
    expect(hash).not.toContain(password);
    const listed = JSON.stringify(await listLinks(token));
    expect(listed).toContain('"passwordProtected":true');
    expect(listed).not.toContain(password);
    expect(listed).not.toContain(hash!.split("$").pop()!);
  });
});

describe("list", () => {
  test("GET /v1/share-links lists only the caller's own links, with uses, remaining and status", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const alice = await creator(uid);
    const bob = await creator(uid);
    const limited = await createShareLink(uid, alice.token, { maxDownloads: 2, countries: ["GB"], note: "for the board" });
    const revoked = await createShareLink(uid, alice.token, { type: "audio" });
    const bobs = await createShareLink(uid, bob.token);

    expect((await click(limited.secret)).status).toBe(303);
    expect((await gateway(`/v1/share-links/${revoked.id}`, { method: "DELETE", token: alice.token })).status).toBe(204);

    // The list is the index, which the audit queue's consumer keeps: about a second behind.
    await drainAudit();
    const page = await listLinks(alice.token);
    expect(page.nextCursor).toBeNull();
    expect(page.links.map((l) => l.id).sort()).toEqual([limited.id, revoked.id].sort());
    expect(page.links.map((l) => l.id)).not.toContain(bobs.id);
    expect(page.links.find((l) => l.id === limited.id)).toEqual({
      id: limited.id,
      url: limited.url,
      video: uid,
      type: "default",
      delivery: "redirect",
      createdAt: expect.any(String),
      expiresAt: limited.expiresAt,
      maxDownloads: 2,
      uses: 1,
      remaining: 1,
      countries: ["GB"],
      lockToIp: false,
      passwordProtected: false,
      note: "for the board",
      maxNetworks: null,
      maxCountries: null,
      suspension: null,
      status: "active",
    });
    expect(page.links.find((l) => l.id === revoked.id)).toMatchObject({ type: "audio", uses: 0, remaining: null, status: "link-revoked" });
    expect((await listLinks(bob.token)).links.map((l) => l.id)).toEqual([bobs.id]);
  });

  test("an exhausted link is listed as link-exhausted with 0 remaining", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const link = await createShareLink(uid, token, { maxDownloads: 1 });
    expect((await click(link.secret)).status).toBe(303);
    await drainAudit();
    expect((await listLinks(token)).links).toEqual([expect.objectContaining({ id: link.id, uses: 1, remaining: 0, status: "link-exhausted" })]);
  });

  test("pages with limit and nextCursor, newest first, every link exactly once", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createShareLink(uid, token)).id);

    const seen: ListedLink[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: LinkPage = await listLinks(token, `?limit=2${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      sizes.push(page.links.length);
      seen.push(...page.links);
      cursor = page.nextCursor;
    } while (cursor !== null && sizes.length < 10);

    expect(sizes).toEqual([2, 2, 1]);
    expect(seen.map((l) => l.id).sort()).toEqual([...made].sort());
    const created = seen.map((l) => Date.parse(l.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  test("a cursor the API did not return, or a limit out of range: 400 invalid-request naming the field", async () => {
    const token = await appToken(randomUser());
    expect((await expectProblem(await gateway("/v1/share-links?cursor=bm90LWpzb24", { token }), 400, "invalid-request")).field).toBe("cursor");
    expect((await expectProblem(await gateway("/v1/share-links?limit=0", { token }), 400, "invalid-request")).field).toBe("limit");
  });

  test("without credentials: 401 unauthenticated", async () => {
    await expectProblem(await gateway("/v1/share-links"), 401, "unauthenticated");
  });
});

describe("revoke", () => {
  test("the creator's DELETE answers 204, and the link answers 410 link-revoked at once", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const link = await createShareLink(uid, token);
    const res = await gateway(`/v1/share-links/${link.id}`, { method: "DELETE", token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await click(link.secret), 410, "link-revoked");
    await expectProblem(await gateway(`/s/${link.secret}`), 410, "link-revoked");
    expect((await shareLinkRow(link.id)).revoked_at).toEqual(expect.any(Number));
  });

  test("another user's DELETE is 404, the same answer as an unknown id, and the link keeps working", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const owner = await creator(uid);
    const link = await createShareLink(uid, owner.token);
    const mallory = await appToken(randomUser(), { videos: "*" });

    const theirs = await expectProblem(await gateway(`/v1/share-links/${link.id}`, { method: "DELETE", token: mallory }), 404, "not-found");
    const unknownId = "A".repeat(32);
    const unknown = await expectProblem(await gateway(`/v1/share-links/${unknownId}`, { method: "DELETE", token: mallory }), 404, "not-found");
    expect(withoutInstance(theirs)).toEqual(withoutInstance(unknown));

    expect((await shareLinkRow(link.id)).revoked_at).toBeNull();
    expect((await click(link.secret)).status).toBe(303);
  });

  test("DELETE needs the bearer header: the cookie alone is 401 and the link stays live", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const link = await createShareLink(uid, token);
    const res = await gateway(`/v1/share-links/${link.id}`, { method: "DELETE", headers: { cookie: `sdg_session=${token}` } });
    await expectProblem(res, 401, "unauthenticated");
    expect((await shareLinkRow(link.id)).revoked_at).toBeNull();
  });

  test("the admin's DELETE /v1/admin/share-links/:id revokes anyone's link: 204, then 410; an unknown id is 404", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const link = await createShareLink(uid, token);
    expect((await admin("DELETE", `/v1/admin/share-links/${link.id}`)).status).toBe(204);
    await expectProblem(await click(link.secret), 410, "link-revoked");
    await expectProblem(await admin("DELETE", `/v1/admin/share-links/${"B".repeat(32)}`), 404, "not-found");
  });

  test("the admin's bulk revoke by user ends that user's links only, and says how many", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const alice = await creator(uid);
    const bob = await creator(uid);
    const a1 = await createShareLink(uid, alice.token);
    const a2 = await createShareLink(uid, alice.token, { type: "audio" });
    const b1 = await createShareLink(uid, bob.token);

    const res = await admin("POST", "/v1/admin/share-links/revoke", { user: alice.user });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: 2 });
    for (const link of [a1, a2]) await expectProblem(await click(link.secret), 410, "link-revoked");
    expect((await click(b1.secret)).status).toBe(303);
    // Already revoked links are not counted again.
    expect(await (await admin("POST", "/v1/admin/share-links/revoke", { user: alice.user })).json()).toEqual({ revoked: 0 });
  });

  test("the admin's bulk revoke by video ends every link of that video, whoever made it", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const other = await seedVideo(QUARTERLY);
    const alice = await creator(uid);
    const bob = await creator(uid);
    const links = [await createShareLink(uid, alice.token), await createShareLink(uid, bob.token)];
    const elsewhere = await createShareLink(other.uid, await appToken(randomUser(), { videos: [other.uid] }));

    const res = await admin("POST", "/v1/admin/share-links/revoke", { video: uid });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: 2 });
    for (const link of links) await expectProblem(await click(link.secret), 410, "link-revoked");
    expect((await click(elsewhere.secret)).status).toBe(303);
  });

  test.each([[{}], [{ user: "someone", video: "0".repeat(32) }], [{ video: "not-a-uid" }]])(
    "the bulk revoke with %j: 400 invalid-request",
    async (body) => {
      await expectProblem(await admin("POST", "/v1/admin/share-links/revoke", body), 400, "invalid-request");
    },
  );

  test("blocking a video revokes its links (linksRevoked counts them); unblocking does not revive them", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const { token } = await creator(uid);
    const links = [await createShareLink(uid, token), await createShareLink(uid, token, { type: "audio" })];

    const res = await admin("POST", `/v1/admin/videos/${uid}/block`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ video: uid, blocked: true, linksRevoked: 2 });
    for (const link of links) {
      await expectProblem(await click(link.secret), 410, "link-revoked");
      expect((await shareLinkRow(link.id)).revoked_at).toEqual(expect.any(Number));
    }

    expect((await admin("POST", `/v1/admin/videos/${uid}/unblock`)).status).toBe(200);
    for (const link of links) await expectProblem(await click(link.secret), 410, "link-revoked");
  });
});

describe("links made under a D1 grant", () => {
  test("a link made under a grant dies with it: 410 link-revoked once the admin deletes the grant", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const user = randomUser();
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    const link = await createShareLink(uid, await appToken(user));
    expect((await click(link.secret)).status).toBe(303);

    const res = await admin("DELETE", "/v1/admin/grants", { grants: [{ user, video: uid }] });
    expect(await res.json()).toEqual({ deleted: 1, linksRevoked: 1 });
    expect((await shareLinkRow(link.id)).revoked_at).toEqual(expect.any(Number));
    await expectProblem(await click(link.secret), 410, "link-revoked");
    expect((await shareLinkRow(link.id)).uses).toBe(1);
  });

  test("a link made under a claim is unaffected by the creator's grants", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const user = randomUser();
    await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] });
    const link = await createShareLink(uid, await appToken(user, { videos: [uid] }));
    expect(await (await admin("DELETE", "/v1/admin/grants", { grants: [{ user, video: uid }] })).json()).toEqual({ deleted: 1, linksRevoked: 0 });
    expect((await click(link.secret)).status).toBe(303);
  });
});

describe("expiry at the boundary (injected clock)", () => {
  test("linkProblem: live one millisecond before expiresAt, link-expired at expiresAt", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const created = await createShareLink(uid, (await creator(uid)).token, { expiresIn: 600 });
    const link = await findForOwner(env.DB, created.id);
    expect(link).not.toBeNull();
    expect(link!.expiresAt).toBe(Date.parse(created.expiresAt));
    expect(linkProblem(link!, link!.expiresAt - 1)).toBeNull();
    expect(linkProblem(link!, link!.expiresAt)).toMatchObject({ type: "link-expired", status: 410 });
  });

  test("the link's object takes a use at expiresAt - 1; at expiresAt takes none", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const created = await createShareLink(uid, (await creator(uid)).token, { expiresIn: 600, maxDownloads: 5 });
    const expiresAt = Date.parse(created.expiresAt);
    const { links } = gatewayOf(env);
    const link = (await links.bySecret(created.secret))!;
    const use = (now: number) => {
      const event = { id: crypto.randomUUID(), at: now, user: null, link: link.id, video: uid, type: "default", mode: "stream", country: null, network: null, outcome: "granted" };
      const grant = { id: crypto.randomUUID(), expiresAt: Math.floor(now / 1000) + 60 };
      return links.redeem(link, { now, network: null, country: null, grant, handout: { grant, url: "https://gateway.example/d/x", mode: "stream" }, grantsUntil: now, event });
    };

    expect(await use(expiresAt - 1)).toMatchObject({ kind: "granted", link: { uses: 1 } });
    expect(await use(expiresAt)).toMatchObject({ kind: "refused", link: { uses: 1 } });
  });
});
