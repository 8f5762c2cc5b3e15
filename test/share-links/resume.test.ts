// Resuming without spending (docs/http-api.md › Share links): every POST that hands out a new grant
// takes a use; a POST from a network whose grant still lasts gets that grant back and takes nothing.
import { describe, expect, test } from "vitest";
import { counters, seedVideo } from "../emulator/helpers";
import { appToken, callWorker, createShareLink, drainAudit, envWith, expectProblem, gateway, linkAuditCount, quotaUsed, randomUser, shareLinkRow } from "../helpers";

const READY = { name: "Board meeting", downloads: { default: "ready" } };
const HOME = "203.0.113.40";

async function link(body: Record<string, unknown> = {}) {
  const { uid } = await seedVideo(READY);
  const token = await appToken(randomUser(), { videos: [uid] });
  return { ...(await createShareLink(uid, token, { maxDownloads: 1, ...body })), token };
}

const post = (secret: string, ip: string, body?: Record<string, string>, query = "") =>
  gateway(`/s/${secret}${query}`, {
    method: "POST",
    headers: { "cf-connecting-ip": ip, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe("a POST from the network that holds a live grant", () => {
  test.each(["gateway", "redirect"])("gets the same grant back, %s delivery: no use, no audit row; another network is refused", async (delivery) => {
    const made = await link({ delivery });
    const query = delivery === "redirect" ? "?mode=redirect" : "";
    const first = await post(made.secret, HOME, undefined, query);
    expect(first.status).toBe(delivery === "gateway" ? 303 : 302);
    const location = first.headers.get("location");
    // The URL is in the body too, for a client that does not follow redirects.
    expect(await first.text()).toBe(`${location}\n`);

    for (let i = 0; i < 3; i++) {
      const again = await post(made.secret, HOME, undefined, query);
      expect(again.status).toBe(first.status);
      expect(again.headers.get("location")).toBe(location);
      await again.arrayBuffer();
    }
    await drainAudit();
    expect((await shareLinkRow(made.id)).uses).toBe(1);
    expect(await linkAuditCount(made.id)).toBe(1);
    await expectProblem(await post(made.secret, "198.51.100.77", undefined, query), 410, "link-exhausted");
  });

  test("resuming with curl's -C - at the handed-back URL continues the file (206)", async () => {
    const made = await link({ delivery: "gateway" });
    const first = await post(made.secret, HOME);
    await first.arrayBuffer();
    const again = await post(made.secret, HOME);
    const path = new URL(again.headers.get("location")!).pathname;
    await again.arrayBuffer();
    const resumed = await gateway(path, { headers: { "cf-connecting-ip": HOME, range: "bytes=100-" } });
    expect(resumed.status).toBe(206);
    expect(resumed.headers.get("content-range")).toMatch(/^bytes 100-/);
    await resumed.arrayBuffer();
  });

  test("a link with a password hands the grant back only with the password", async () => {
    const made = await link({ delivery: "gateway", password: "correct horse" });
    const first = await post(made.secret, HOME, { password: "correct horse" });
    expect(first.status).toBe(303);
    await first.arrayBuffer();
    const without = await post(made.secret, HOME);
    expect(without.status).toBe(403);
    expect(without.headers.get("location")).toBeNull();
    await without.arrayBuffer();
    const withIt = await post(made.secret, HOME, { password: "correct horse" });
    expect(withIt.headers.get("location")).toBe(first.headers.get("location"));
    await withIt.arrayBuffer();
  });

  test("a revoked link hands nothing back; a link with uses left gives a new network a new grant", async () => {
    const made = await link({ delivery: "gateway", maxDownloads: 2 });
    const home = await post(made.secret, HOME);
    await home.arrayBuffer();
    const away = await post(made.secret, "198.51.100.78");
    expect(away.status).toBe(303);
    expect(away.headers.get("location")).not.toBe(home.headers.get("location"));
    await away.arrayBuffer();

    const revoked = await gateway(`/v1/share-links/${made.id}`, { method: "DELETE", token: made.token });
    expect(revoked.status).toBe(204);
    await expectProblem(await post(made.secret, HOME), 410, "link-revoked");
  });

  test("a client whose network is unknown gets no grant back: each POST is a new grant", async () => {
    const made = await link({ delivery: "gateway", maxDownloads: 2 });
    const a = await gateway(`/s/${made.secret}`, { method: "POST" });
    const b = await gateway(`/s/${made.secret}`, { method: "POST" });
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.get("location")).not.toBe(b.headers.get("location"));
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  });
});

describe("a grant handed back costs nothing, even where nothing is left", () => {
  const withQuota = envWith({ DAILY_DOWNLOAD_QUOTA: "1" });
  const postWith = (secret: string, ip: string) => callWorker(withQuota, `/s/${secret}`, { method: "POST", headers: { "cf-connecting-ip": ip } });

  /** A fresh creator's link through the gateway, and its first grant, to HOME. */
  async function firstGrant(maxDownloads: number) {
    const { uid } = await seedVideo(READY);
    const creator = randomUser();
    const made = await createShareLink(uid, await appToken(creator, { videos: [uid] }), { maxDownloads, delivery: "gateway" });
    const first = await postWith(made.secret, HOME);
    expect(first.status).toBe(303);
    await first.arrayBuffer();
    return { uid, creator, secret: made.secret, location: first.headers.get("location") };
  }

  test("the creator's quota used up: the network holding a grant gets it back, another network is refused", async () => {
    const { creator, secret, location } = await firstGrant(2);
    expect(await quotaUsed(creator)).toBe(1);
    const again = await postWith(secret, HOME);
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe(location);
    await again.arrayBuffer();
    await expectProblem(await postWith(secret, "198.51.100.78"), 429, "quota-exceeded");
    expect(await quotaUsed(creator)).toBe(1);
  });

  test("a used-up link answers without asking Stream or the quota: the holder's grant back, anyone else 410", async () => {
    const { uid, creator, secret, location } = await firstGrant(1);
    const before = await counters(uid);
    for (let i = 0; i < 3; i++) {
      const back = await postWith(secret, HOME);
      expect(back.status).toBe(303);
      expect(back.headers.get("location")).toBe(location);
      await back.arrayBuffer();
      await expectProblem(await postWith(secret, `198.51.100.${90 + i}`), 410, "link-exhausted");
    }
    expect((await counters(uid)).api).toBe(before.api);
    expect(await quotaUsed(creator)).toBe(1);
  });
});
