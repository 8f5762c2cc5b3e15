// What a share-link grant hands out stays tied to its link (docs/http-api.md › Share links): the
// grant's /d/ URL is admitted by the link's object on every fetch, from the redeemer's network and
// one switch, within a byte budget of three files, and never after the link is revoked.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { counters, seedVideo } from "../emulator/helpers";
import { appToken, createShareLink, drainAudit, expectProblem, gateway, linkAuditCount, randomUser, shareLinkRow, ticketPath } from "../helpers";
import { linkNames } from "../../src/share-links/ids";
import { PASSWORD_GUESSES, PASSWORD_GUESSES_PER_NETWORK } from "../../src/share-links/link-object";
import { gatewayOf } from "../../src/index";

const READY = { name: "Board meeting", downloads: { default: "ready" } };

/** A gateway-delivered link and the /d/ path its one use was granted, from `ip`. */
async function grantedOnce(body: Record<string, unknown> = {}, ip = "203.0.113.5") {
  const { uid } = await seedVideo(READY);
  const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { delivery: "gateway", maxDownloads: 1, ...body });
  const path = ticketPath(await gateway(`/s/${link.secret}`, { method: "POST", headers: { "cf-connecting-ip": ip } }));
  return { uid, link, path };
}

const fetchFrom = (path: string, ip: string, headers: Record<string, string> = {}) => gateway(path, { headers: { "cf-connecting-ip": ip, ...headers } });

describe("a share link's grant URL", () => {
  test("a link made with no delivery named answers every client, browser or not, with its /d/ URL; mode=redirect is refused", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { delivery: undefined });
    const browser = await gateway(`/s/${link.secret}`, { method: "POST", headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" }, body: "" });
    expect(ticketPath(browser)).toMatch(/^\/d\//);
    await expectProblem(await gateway(`/s/${link.secret}?mode=redirect`, { method: "POST" }), 400, "invalid-request");
  });

  test("fetched in full from 20 networks, it delivers the file only to its own network and one switch, at most 3 times", async () => {
    const { path } = await grantedOnce();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await fetchFrom(path, `198.51.${i}.7`);
        const body = new Uint8Array(await res.arrayBuffer());
        return { status: res.status, bytes: body.byteLength };
      }),
    );
    // The redeemer's own network, three times over, and then no more.
    const own = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetchFrom(path, "203.0.113.9");
      own.push({ status: res.status, bytes: (await res.arrayBuffer()).byteLength });
    }
    const complete = [...answers, ...own].filter((a) => a.status === 200);
    expect(complete.length).toBeGreaterThanOrEqual(1);
    expect(complete.length).toBeLessThanOrEqual(3);
    // One other network at most: the first to ask takes the switch.
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(1);
    expect(answers.filter((a) => a.status !== 200).every((a) => a.status === 403 || a.status === 410)).toBe(true);
    expect(own.at(-1)?.status).toBe(410);
  });

  test("a resume with a Range takes only what it sends from the budget, and an aborted response gives back what it did not send", async () => {
    const { path } = await grantedOnce();
    const head = await fetchFrom(path, "203.0.113.5", { range: "bytes=0-99" });
    expect(head.status).toBe(206);
    const size = Number(/\/(\d+)$/.exec(head.headers.get("content-range") ?? "")?.[1]);
    await head.arrayBuffer();
    // An aborted response: read a little, then cancel.
    const aborted = await fetchFrom(path, "203.0.113.5");
    const reader = aborted.body!.getReader();
    await reader.read();
    await reader.cancel();
    await scheduler.wait(100);
    // Three whole files are still within the budget, less the 100 bytes of the first range and what the aborted one sent.
    let complete = 0;
    for (let i = 0; i < 3; i++) {
      const res = await fetchFrom(path, "203.0.113.5");
      if (res.status === 200) complete += 1;
      await res.arrayBuffer();
    }
    expect(size).toBeGreaterThan(100);
    expect(complete).toBe(2);
    const rest = await fetchFrom(path, "203.0.113.5", { range: `bytes=${size - 50}-` });
    expect(rest.status).toBe(206);
    await rest.arrayBuffer();
  });

  test("revoked, its link's grant URL serves nothing at once, whoever asks", async () => {
    const { link, path } = await grantedOnce();
    expect((await fetchFrom(path, "203.0.113.5", { range: "bytes=0-9" })).status).toBe(206);
    const revoke = await gateway(`/v1/admin/share-links/${link.id}`, { method: "DELETE", token: "test-admin-token-one" });
    expect(revoke.status).toBe(204);
    await expectProblem(await fetchFrom(path, "203.0.113.5"), 410, "link-revoked");
  });

  test("a maxNetworks=2 link: of 30 networks asking at once, at most 2 get a grant; the next is refused and suspends it", async () => {
    const { uid } = await seedVideo(READY);
    const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { delivery: "gateway", maxNetworks: 2 });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => (await gateway(`/s/${link.secret}`, { method: "POST", headers: { "cf-connecting-ip": `192.0.${i}.1` } })).status),
    );
    expect(statuses.filter((s) => s === 303).length).toBeLessThanOrEqual(2);
    expect(statuses.filter((s) => s === 303).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s !== 303).every((s) => s === 410)).toBe(true);
    const granted = statuses.filter((s) => s === 303).length;
    expect({ uses: (await shareLinkRow(link.id)).uses, audit: await linkAuditCount(link.id) }).toEqual({ uses: granted, audit: granted });
  });
});

describe("a grant URL's first fetch may be anything", () => {
  test("a HEAD or a 416 first reserves nothing: the file is still delivered three times", async () => {
    const { path } = await grantedOnce();
    const head = await gateway(path, { method: "HEAD", headers: { "cf-connecting-ip": "203.0.113.5" } });
    expect(head.status).toBe(200);
    const beyond = await fetchFrom(path, "203.0.113.5", { range: "bytes=999999999-" });
    expect(beyond.status).toBe(416);
    await beyond.arrayBuffer();
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetchFrom(path, "203.0.113.5");
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 410]);
  });

  test("a fetch the link's object refuses costs Stream nothing", async () => {
    const { uid, path } = await grantedOnce();
    await (await fetchFrom(path, "198.51.100.1")).arrayBuffer(); // the one switch
    const before = (await counters(uid)).delivery;
    for (let i = 0; i < 3; i++) await expectProblem(await fetchFrom(path, `192.0.2.${i + 1}`), 403, "not-entitled");
    expect((await counters(uid)).delivery).toBe(before);
  });

  test("a grant URL's switch that would pass maxNetworks suspends the link, which its owner and the app hear of", async () => {
    const { uid } = await seedVideo(READY);
    const token = await appToken(randomUser(), { videos: [uid] });
    const link = await createShareLink(uid, token, { delivery: "gateway", maxNetworks: 1 });
    const path = ticketPath(await gateway(`/s/${link.secret}`, { method: "POST", headers: { "cf-connecting-ip": "203.0.113.5" } }));
    await expectProblem(await fetchFrom(path, "198.51.100.1"), 410, "link-suspended");
    await expectProblem(await fetchFrom(path, "203.0.113.5"), 410, "link-suspended");
    await drainAudit();
    const { links } = (await (await gateway("/v1/share-links", { token })).json()) as { links: Array<{ id: string; status: string; suspension: unknown }> };
    expect(links.find((l) => l.id === link.id)).toMatchObject({ status: "link-suspended", suspension: { networks: 2 } });
  });
});

describe("password guesses", () => {
  test("one network's guesses count towards the link's ceiling only up to its share: alone, it cannot lock anyone out", async () => {
    const { uid } = await seedVideo(READY);
    const created = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { password: "open sesame" });
    const { links } = gatewayOf(env);
    const link = (await links.bySecret(created.secret))!;
    const now = Date.now();
    for (let i = 0; i < PASSWORD_GUESSES + 10; i++) expect(await links.guess(link, "198.51.100.7", now)).toMatchObject({ kind: "go" });
    expect(await links.guess(link, "192.0.2.8", now)).toEqual({ kind: "go", known: false });
    // Spread over networks, the guesses do meet it.
    for (let n = 0; n < PASSWORD_GUESSES / PASSWORD_GUESSES_PER_NETWORK; n++) {
      for (let i = 0; i < PASSWORD_GUESSES_PER_NETWORK; i++) await links.guess(link, `203.0.113.${n}`, now);
    }
    expect(await links.guess(link, "192.0.2.9", now)).toMatchObject({ kind: "wait" });
  });
});

describe("links from before public ids", () => {
  test("a link whose row is keyed by its secret keeps working, moves on first use, and is then found by its public id only", async () => {
    const { uid } = await seedVideo(READY);
    const secret = "legacyLegacyLegacyLegacyLegacy00";
    await env.DB.prepare(
      `INSERT INTO share_links (id, creator, video_id, type, created_at, expires_at, max_uses, uses) VALUES (?1, 'old-creator', ?2, 'default', ?3, ?4, 3, 1)`,
    )
      .bind(secret, uid, Date.now(), Date.now() + 3_600_000)
      .run();
    const { publicId } = await linkNames(secret);
    expect((await gateway(`/s/${secret}`, { method: "POST" })).status).toBe(303);
    const row = await env.DB.prepare("SELECT id, public_id FROM share_links WHERE secret = ?1").bind(secret).first<{ id: string; public_id: string }>();
    // Re-keyed: code from before the move, which looks the row up by the URL's value, finds nothing.
    expect(row).toEqual({ id: expect.not.stringMatching(secret), public_id: publicId });
    expect(await env.DB.prepare("SELECT 1 FROM share_links WHERE id = ?1").bind(secret).first()).toBeNull();
    // The use taken before the move still counts: one left.
    expect((await gateway(`/s/${secret}`, { method: "POST" })).status).toBe(303);
    await expectProblem(await gateway(`/s/${secret}`, { method: "POST" }), 410, "link-exhausted");
  });
});
