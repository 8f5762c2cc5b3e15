// Leak-aware share links (docs/http-api.md › Share links): a link used from more networks
// (IPv4 /24, IPv6 /48) or countries than it allows within SHARE_LINK_LEAK_WINDOW is suspended by
// the audit queue's consumer (410 link-suspended, in plain words on the page); its owner sees why
// and each use, and can reinstate it, after which only later uses count.
import { describe, expect, test } from "vitest";
import { appToken, callWorker, drainAudit, envWith, expectProblem, gateway, randomUser, readyVideo } from "../helpers";

interface OwnLink {
  id: string;
  status: string;
  maxNetworks: number | null;
  maxCountries: number | null;
  suspension: { at: string; networks: number; countries: number } | null;
}

async function makeLink(limits: Record<string, unknown>) {
  const uid = await readyVideo();
  const creator = randomUser();
  const token = await appToken(creator, { videos: [uid] });
  const res = await gateway(`/v1/videos/${uid}/share-links`, {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: 3600, ...limits }),
  });
  expect(res.status).toBe(201);
  const { id, url } = (await res.json()) as { id: string; url: string };
  return { id, secret: new URL(url).pathname.split("/").pop() ?? "", uid, token };
}

const download = (id: string, ip: string, country = "GB") =>
  gateway(`/s/${id}`, { method: "POST", headers: { "cf-connecting-ip": ip, "cf-ipcountry": country } });

async function own(id: string, token: string): Promise<OwnLink> {
  const { links } = (await (await gateway("/v1/share-links?limit=100", { token })).json()) as { links: OwnLink[] };
  const link = links.find((l) => l.id === id);
  if (!link) throw new Error(`link ${id} not listed`);
  return link;
}

describe("suspension", () => {
  test("a client the edge cannot place (Tor's T1, XX, none) counts as the country \"unknown\": hiding the country does not escape maxCountries", async () => {
    const { id, secret, token } = await makeLink({ maxCountries: 1, maxNetworks: null });
    expect((await download(secret, "203.0.113.5", "GB")).status).toBe(303);
    // The use that would be a second country is refused, and suspends the link.
    await expectProblem(await download(secret, "198.51.100.7", "T1"), 410, "link-suspended");
    await drainAudit();
    expect(await own(id, token)).toMatchObject({ status: "link-suspended", suspension: { countries: 2 } });
  });

  test("uses from more networks than allowed suspend the link; its owner sees why and every use, and can reinstate it", async () => {
    const { id, secret, token } = await makeLink({ maxNetworks: 2 });
    // Two addresses of one /24 are one network: the second gets the first's grant back, taking no use.
    for (const ip of ["203.0.113.5", "203.0.113.77", "198.51.100.7"]) expect((await download(secret, ip)).status).toBe(303);
    await drainAudit();
    expect((await own(id, token)).status).toBe("active");

    // The request that would be a third network gets nothing, and suspends the link.
    await expectProblem(await download(secret, "192.0.2.9"), 410, "link-suspended");
    await drainAudit();
    const suspended = await own(id, token);
    expect(suspended).toMatchObject({ status: "link-suspended", maxNetworks: 2, suspension: { networks: 3, countries: 1 } });
    const refused = await expectProblem(await download(secret, "203.0.113.5"), 410, "link-suspended");
    expect(refused.detail).not.toMatch(/link-suspended|410/);
    // The landing page says so in words, for people.
    const page = await gateway(`/s/${secret}`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(410);
    const html = await page.text();
    expect(html).toContain("was suspended because it was used from more places");
    // The machine's slug is an attribute, never text a person reads.
    expect(html).toContain('data-problem="link-suspended" data-status="410"');
    expect(html.replace(/<[^>]*>/g, "")).not.toMatch(/link-suspended|410/);

    const uses = (await (await gateway(`/v1/share-links/${id}/uses`, { token })).json()) as { uses: Array<{ network: string; country: string; outcome: string }> };
    expect(uses.uses.map((u) => u.network).sort()).toEqual(["198.51.100.0/24", "203.0.113.0/24"]);
    expect(uses.uses.every((u) => u.country === "GB" && u.outcome === "granted")).toBe(true);

    // Reinstated: the uses before it stop counting, so two more networks are fine again.
    const reinstated = await gateway(`/v1/share-links/${id}/reinstate`, { method: "POST", token });
    expect(await reinstated.json()).toMatchObject({ id, status: "active", suspension: null });
    for (const ip of ["2001:db8:1:a::1", "2001:db8:1:b::2", "100.64.0.1"]) expect((await download(secret, ip)).status).toBe(303);
    await drainAudit();
    expect((await own(id, token)).status).toBe("active");
    await expectProblem(await download(secret, "192.0.2.9"), 410, "link-suspended");
  });

  test("uses from more countries than allowed suspend the link", async () => {
    const { id, secret, token } = await makeLink({ maxCountries: 1 });
    expect((await download(secret, "203.0.113.5", "GB")).status).toBe(303);
    await expectProblem(await download(secret, "198.51.100.6", "FR"), 410, "link-suspended");
    await drainAudit();
    expect(await own(id, token)).toMatchObject({ status: "link-suspended", suspension: { countries: 2 } });
  });

  test("a link without limits is never suspended, however many networks use it", async () => {
    const { id, secret, token } = await makeLink({});
    for (let i = 1; i <= 6; i++) expect((await download(secret, `198.51.${i}.1`)).status).toBe(303);
    await drainAudit();
    expect(await own(id, token)).toMatchObject({ status: "active", maxNetworks: null, maxCountries: null, suspension: null });
  });

  test("another user's link: its uses and its reinstatement answer 404, like an unknown link", async () => {
    const { id } = await makeLink({ maxNetworks: 1 });
    const stranger = await appToken(randomUser(), { videos: "*" });
    await expectProblem(await gateway(`/v1/share-links/${id}/uses`, { token: stranger }), 404, "not-found");
    await expectProblem(await gateway(`/v1/share-links/${id}/reinstate`, { method: "POST", token: stranger }), 404, "not-found");
    await expectProblem(await gateway(`/v1/share-links/nope/uses`, { token: stranger }), 404, "not-found");
  });
});

describe("limits and their defaults", () => {
  test("SHARE_LINK_MAX_NETWORKS and SHARE_LINK_MAX_COUNTRIES are a new link's limits unless it sets its own; null turns them off", async () => {
    const defaults = envWith({ SHARE_LINK_MAX_NETWORKS: "5", SHARE_LINK_MAX_COUNTRIES: "3" });
    const uid = await readyVideo();
    const token = await appToken(randomUser(), { videos: [uid] });
    const create = async (body: Record<string, unknown>) => {
      const res = await callWorker(defaults, `/v1/videos/${uid}/share-links`, { method: "POST", token, headers: { "content-type": "application/json" }, body: JSON.stringify({ expiresIn: 600, ...body }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const ids = [await create({}), await create({ maxNetworks: 2 }), await create({ maxNetworks: null, maxCountries: null })];
    const { links } = (await (await callWorker(defaults, "/v1/share-links", { token })).json()) as { links: OwnLink[] };
    const limits = ids.map((id) => links.find((l) => l.id === id)).map((l) => [l?.maxNetworks, l?.maxCountries]);
    expect(limits).toEqual([
      [5, 3],
      [2, 3],
      [null, null],
    ]);
  });

  test.each([{ maxNetworks: 0 }, { maxNetworks: 1.5 }, { maxCountries: 251 }, { maxNetworks: "2" }])("%o is refused with 400 naming its field", async (body) => {
    const uid = await readyVideo();
    const res = await gateway(`/v1/videos/${uid}/share-links`, {
      method: "POST",
      token: await appToken(randomUser(), { videos: [uid] }),
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ expiresIn: 600, ...body }),
    });
    expect((await expectProblem(res, 400, "invalid-request")).field).toBe(Object.keys(body)[0]);
  });
});
