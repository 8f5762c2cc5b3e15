// The visitor's side of a share link (docs/http-api.md): GET /s/:id shows the link and uses
// nothing, so unfurlers may fetch it freely; POST /s/:id is the download, which takes exactly one
// use atomically with its audit row. The emulator plays Stream: it serves what the Location points
// at and enforces the token's access rules. Every test seeds its own video and uses fresh users.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { DELIVERY_BASE, counters, injectFault, seedVideo } from "../emulator/helpers";
import { formatSize, recipientLocale } from "../../src/language/locale";
import { PASSWORD_GUESSES } from "../../src/share-links/link-object";
import { clearOfLimiterRollover, LIMITER_BURST_TIMEOUT_MS, admin, appToken, callWorker, type CreatedLink, createShareLink, drainAudit, envWith, expectProblem, gateway, linkAuditCount, randomUser, shareLinkRow, ticketPath } from "../helpers";

const QUARTERLY = { name: "Quarterly review", downloads: { default: "ready", audio: "ready" } };
const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** A fresh ready video and a link to it made by a fresh user entitled by claim. */
async function sharedVideo(body: Record<string, unknown> = {}, seed: Record<string, unknown> = QUARTERLY): Promise<{ uid: string; link: CreatedLink }> {
  const { uid } = await seedVideo(seed);
  // Stream's URL, unless a test asks for the gateway's: most tests here read the token it hands out.
  const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }), { delivery: "redirect", ...body });
  return { uid, link };
}

interface Click {
  password?: string;
  query?: string;
  headers?: Record<string, string>;
}

/** The Download button as a `fetch` client presses it: JSON body (or none), asking for a redirect. */
function click(id: string, { password, query = "?mode=redirect", headers = {} }: Click = {}): Promise<Response> {
  return gateway(`/s/${id}${query}`, {
    method: "POST",
    headers: password === undefined ? headers : { "content-type": "application/json", ...headers },
    body: password === undefined ? undefined : JSON.stringify({ password }),
  });
}

/** The landing page's form, as a browser submits it. */
function submitForm(id: string, fields: Record<string, string>): Promise<Response> {
  return gateway(`/s/${id}`, {
    method: "POST",
    headers: { accept: BROWSER, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}


function location(res: Response): URL {
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

function tokenClaims(target: URL): { exp: number; accessRules?: unknown } {
  const token = target.pathname.split("/")[1] ?? "";
  const payload = (token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "="))) as { exp: number };
}

async function expectMp4(res: Response): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("video/mp4");
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(new TextDecoder().decode(bytes.slice(4, 8))).toBe("ftyp");
}

describe("GET /s/:id: the landing page", () => {
  test("a browser gets an HTML page with the video name, type, expiry, downloads left and a Download button", async () => {
    const { link } = await sharedVideo({ maxDownloads: 3 });
    const res = await gateway(`/s/${link.secret}`, { headers: { accept: BROWSER } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // The form's POST redirects to Stream: browsers check form-action against that redirect too.
    expect(res.headers.get("content-security-policy")).toContain(`form-action 'self' ${DELIVERY_BASE}`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-robots-tag")).toMatch(/noindex/);
    const html = await res.text();
    expect(html).toContain("<title>Quarterly review</title>");
    expect(html).toContain("Video (MP4)");
    expect(html).toContain(`datetime="${link.expiresAt}"`);
    expect(html).toContain('<dt>Downloads left</dt><dd><span id="remaining">3</span></dd>');
    expect(html).toMatch(/\(in (59|60) minutes\)/);
    expect(html).toContain(`<form data-download method="post" action="/s/${link.secret}">`);
    expect(html).toMatch(/<button type="submit">Download<\/button>/);
    // The poster comes through the gateway: no Stream token (which would play the whole video) reaches the visitor.
    expect(html).toContain(`<img class="poster" src="/s/${link.secret}/poster.jpg"`);
    expect(html).not.toContain(DELIVERY_BASE);
    expect(res.headers.get("content-security-policy")).toContain("img-src 'self';");
    const poster = await gateway(`/s/${link.secret}/poster.jpg`);
    expect({ status: poster.status, type: poster.headers.get("content-type") }).toEqual({ status: 200, type: "image/jpeg" });
    expect(new Uint8Array(await poster.arrayBuffer()).slice(0, 2)).toEqual(new Uint8Array([0xff, 0xd8]));
    expect(html).not.toContain('type="password"');
  });

  test("a link with a password shows a password field; an audio link says so", async () => {
    const { link } = await sharedVideo({ type: "audio", password: "s3cret-enough" });
    const html = await (await gateway(`/s/${link.secret}`, { headers: { accept: BROWSER } })).text();
    expect(html).toMatch(/<input[^>]*name="password"[^>]*type="password"/);
    expect(html).toContain("Audio (M4A)");
    expect(html).not.toContain("s3cret-enough");
  });

  test("a JSON client gets the same facts as JSON", async () => {
    const { link } = await sharedVideo({ maxDownloads: 3, password: "s3cret-enough" });
    const res = await gateway(`/s/${link.secret}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      id: link.id,
      video: { name: "Quarterly review", durationSeconds: expect.any(Number), sizeBytes: expect.any(Number), thumbnail: `https://gateway.test/s/${link.secret}/poster.jpg` },
      type: "default",
      expiresAt: link.expiresAt,
      remainingDownloads: 3,
      passwordRequired: true,
    });
  });

  test("fetched 50 times (link unfurlers) it uses nothing: D1 uses stay 0 and Stream delivers nothing", async () => {
    const { uid, link } = await sharedVideo({ maxDownloads: 3 });
    const before = await counters(uid);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => gateway(`/s/${link.secret}`, i % 2 === 0 ? { headers: { accept: BROWSER } } : {})),
    );
    for (const res of responses) {
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect((await shareLinkRow(link.id)).uses).toBe(0);
    expect(await linkAuditCount(link.id)).toBe(0);
    expect((await counters(uid)).delivery).toBe(before.delivery);
    expect(((await (await gateway(`/s/${link.secret}`)).json()) as { remainingDownloads: number }).remainingDownloads).toBe(3);
    // The file's size is asked of Stream once, with a HEAD, however many views race for it.
    expect(((await counters(uid)).byOperation["delivery.head"] ?? 0) - (before.byOperation["delivery.head"] ?? 0)).toBe(1);
  });

  test("the page shows the file's size, as Stream's delivery host gives it, asked once with a HEAD", async () => {
    const { uid, link } = await sharedVideo();
    const facts = (await (await gateway(`/s/${link.secret}`)).json()) as { video: { sizeBytes: number | null } };
    const file = await fetch(location(await click(link.secret)));
    const bytes = (await file.arrayBuffer()).byteLength;
    expect(facts.video.sizeBytes).toBe(bytes);
    const html = await (await gateway(`/s/${link.secret}`, { headers: { accept: BROWSER } })).text();
    expect(html).toContain(`<dt>Size</dt><dd>${formatSize(bytes, recipientLocale(null, null))}</dd>`);
    const seen = await counters(uid);
    expect({ heads: seen.byOperation["delivery.head"], downloads: seen.delivery }).toEqual({ heads: 1, downloads: 1 });
  });

  test("the size is asked only for a ready file of a live link, and a slow Stream leaves it out of a page still shown", async () => {
    const facts = async (id: string) => (await gateway(`/s/${id}`)).json() as Promise<{ video: { sizeBytes: number | null } }>;
    const heads = async (uid: string) => (await counters(uid)).byOperation["delivery.head"] ?? 0;
    // Not ready yet: nothing to measure.
    const preparing = await sharedVideo({}, { name: "Long cut", downloads: { default: "inprogress" }, downloadSeconds: 60 });
    expect((await facts(preparing.link.secret)).video.sizeBytes).toBeNull();
    expect(await heads(preparing.uid)).toBe(0);
    // Revoked before anyone looked: the page is refused, and Stream is not asked.
    const revoked = await sharedVideo();
    expect((await admin("DELETE", `/v1/admin/share-links/${revoked.link.id}`)).ok).toBe(true);
    await expectProblem(await gateway(`/s/${revoked.link.secret}`), 410, "link-revoked");
    expect(await heads(revoked.uid)).toBe(0);
    // Stream's delivery host slower than the gateway waits: the page, without a size.
    const slow = await sharedVideo();
    await injectFault({ video: slow.uid, operation: "delivery", latencyMs: 3000, times: 1 });
    const res = await gateway(`/s/${slow.link.secret}`, { headers: { accept: BROWSER } });
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain("<dt>Size</dt>");
  });

  test("a file whose size Stream will not tell is shown without one, and asked again only after a while", async () => {
    const { uid, link } = await sharedVideo();
    await injectFault({ video: uid, operation: "delivery", status: 503, times: 1 });
    const first = (await (await gateway(`/s/${link.secret}`)).json()) as { video: { sizeBytes: number | null } };
    const second = (await (await gateway(`/s/${link.secret}`)).json()) as { video: { sizeBytes: number | null } };
    expect([first.video.sizeBytes, second.video.sizeBytes]).toEqual([null, null]);
    expect((await counters(uid)).byOperation["delivery.head"]).toBe(1);
    // Half an hour later (the check's time moved back), still not; an hour later, the next view asks again and gets it.
    const checkedAgo = (ms: number) => env.DB.prepare("UPDATE download_state SET size_checked_at = ?2 WHERE video_id = ?1").bind(uid, Date.now() - ms).run();
    await checkedAgo(30 * 60_000);
    expect(((await (await gateway(`/s/${link.secret}`)).json()) as { video: { sizeBytes: number | null } }).video.sizeBytes).toBeNull();
    await checkedAgo(61 * 60_000);
    const later = (await (await gateway(`/s/${link.secret}`)).json()) as { video: { sizeBytes: number | null } };
    expect(later.video.sizeBytes).toBeGreaterThan(0);
    expect((await counters(uid)).byOperation["delivery.head"]).toBe(2);
  });

  test.each(["A".repeat(32), "too-short", "%3Cscript%3E"])("an unknown id %j: 404 problem+json, and an HTML 404 page for browsers", async (id) => {
    await expectProblem(await gateway(`/s/${id}`), 404, "not-found");
    const page = await gateway(`/s/${id}`, { headers: { accept: BROWSER } });
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await page.text()).not.toContain("<script");
  });

  test("an expired, a revoked and an exhausted link: 410 with the matching type, on GET and POST alike", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const token = await appToken(randomUser(), { videos: [uid] });
    const expired = await createShareLink(uid, token, { delivery: "redirect" });
    await env.DB.prepare("UPDATE share_links SET expires_at = ? WHERE public_id = ?").bind(Date.now() - 1, expired.id).run();
    const revoked = await createShareLink(uid, token, { delivery: "redirect" });
    expect((await gateway(`/v1/share-links/${revoked.id}`, { method: "DELETE", token })).status).toBe(204);
    const exhausted = await createShareLink(uid, token, { delivery: "redirect", maxDownloads: 1 });
    expect((await click(exhausted.secret)).status).toBe(302);

    for (const [link, type] of [
      [expired, "link-expired"],
      [revoked, "link-revoked"],
      [exhausted, "link-exhausted"],
    ] as const) {
      // The instance names the link as a log line does: a secret in an error tracker is a capability.
      await expectProblem(await gateway(`/s/${link.secret}`), 410, type, `/s/${link.secret.slice(0, 4)}…`);
      await expectProblem(await click(link.secret), 410, type, `/s/${link.secret.slice(0, 4)}…`);
      const page = await gateway(`/s/${link.secret}`, { headers: { accept: BROWSER } });
      expect(page.status).toBe(410);
      expect(await page.text()).toContain(type);
    }
  });
});

describe("POST /s/:id: the download", () => {
  test("a ready video: 302 to Stream's delivery host, which serves the MP4; one use and one audit row", async () => {
    const { uid, link } = await sharedVideo({ maxDownloads: 3 });
    const res = await click(link.secret);
    const target = location(res);
    expect(target.origin).toBe(DELIVERY_BASE);
    expect(target.pathname).toMatch(/^\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\/downloads\/default\.mp4$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    await expectMp4(await fetch(target));
    expect((await shareLinkRow(link.id)).uses).toBe(1);
    await drainAudit();
    const rows = await env.DB.prepare("SELECT * FROM audit_events WHERE link_id = ?").bind(link.id).all();
    expect(rows.results).toEqual([
      expect.objectContaining({ link_id: link.id, user_id: null, video_id: uid, type: "default", mode: "redirect", outcome: "granted" }),
    ]);
  });

  test("the landing page's form post works too", async () => {
    const { link } = await sharedVideo();
    const res = await submitForm(link.secret, {});
    await expectMp4(await fetch(location(res)));
  });

  test("the token's exp never outlives the link", async () => {
    const { link } = await sharedVideo({ expiresIn: 120 });
    const { exp } = tokenClaims(location(await click(link.secret)));
    expect(exp).toBeLessThanOrEqual(Date.parse(link.expiresAt) / 1000);
    expect(exp).toBeGreaterThan(Date.now() / 1000);
  });

  test("a link made for Stream's URL hands out a 5-minute token: nothing can count or revoke it once out", async () => {
    const { link } = await sharedVideo({ expiresIn: 86_400 });
    const before = Math.floor(Date.now() / 1000);
    const { exp } = tokenClaims(location(await click(link.secret)));
    expect(exp).toBeGreaterThan(before);
    expect(exp).toBeLessThanOrEqual(before + 301);
  });

  test("a link for GB: the token works from GB and not from the US at Stream; the gateway refuses a US click itself", async () => {
    const { link } = await sharedVideo({ countries: ["GB"] });
    const res = await click(link.secret, { headers: { "cf-ipcountry": "GB" } });
    const target = location(res);
    expect(tokenClaims(target).accessRules).toEqual([
      { type: "ip.geoip.country", action: "allow", country: ["GB"] },
      { type: "any", action: "block" },
    ]);
    const fromUs = await fetch(target, { headers: { "cf-ipcountry": "US" } });
    expect(fromUs.status).toBe(403);
    await fromUs.arrayBuffer();
    await expectMp4(await fetch(target, { headers: { "cf-ipcountry": "GB" } }));

    await expectProblem(await click(link.secret, { headers: { "cf-ipcountry": "US" } }), 403, "not-entitled");
    expect((await shareLinkRow(link.id)).uses).toBe(1);
  });

  test("a download Stream is still making: 202 with Retry-After, and no use taken", async () => {
    const { uid, link } = await sharedVideo({ maxDownloads: 1 }, { name: "Quarterly review", downloadSeconds: 60 });
    const res = await click(link.secret);
    expect(res.status).toBe(202);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(await res.json()).toEqual({ status: "inprogress", percentComplete: expect.any(Number), retryAfter });
    expect((await shareLinkRow(link.id)).uses).toBe(0);
    expect(await linkAuditCount(link.id)).toBe(0);
    expect((await counters(uid)).delivery).toBe(0);
  });

  test("a browser waiting on Stream gets a 202 page that posts its form again, by a script whose nonce the CSP allows", async () => {
    const { link } = await sharedVideo({ maxDownloads: 1 }, { name: "Quarterly review", downloadSeconds: 60 });
    const res = await submitForm(link.secret, {});
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    const allowed = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(allowed).toBeTruthy();
    const html = await res.text();
    expect(html).toContain(`<form data-download method="post" action="/s/${link.secret}">`);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toEqual([` nonce="${allowed}"`]);
    expect((await shareLinkRow(link.id)).uses).toBe(0);

    const again = await submitForm(link.secret, {});
    expect(again.status).toBe(202);
    const second = /script-src 'nonce-([^']+)'/.exec(again.headers.get("content-security-policy") ?? "")?.[1];
    expect(second).not.toBe(allowed);
    await again.arrayBuffer();
  });

  test("a Range on the granting POST never skips the use; the resume happens at the grant's own URL, with no new use", async () => {
    const { link } = await sharedVideo({ maxDownloads: 2 });
    const start = await click(link.secret, { headers: { range: "bytes=0-" } });
    expect(start.status).toBe(302);
    expect((await shareLinkRow(link.id)).uses).toBe(1);

    // The bypass the old rule allowed: a Range past 0 on the POST itself is a new grant.
    const ranged = await click(link.secret, { query: "?mode=stream", headers: { range: "bytes=100-" } });
    const path = ticketPath(ranged);
    expect((await shareLinkRow(link.id)).uses).toBe(2);

    const resume = await gateway(path, { headers: { range: "bytes=100-" } });
    expect(resume.status).toBe(206);
    expect(resume.headers.get("content-range")).toMatch(/^bytes 100-\d+\/\d+$/);
    expect(resume.headers.get("content-disposition")).toMatch(/^attachment; /);
    await resume.arrayBuffer();
    // The last use of the link is resumable, and the link itself is used up.
    await expectMp4(await gateway(path));
    await expectProblem(await click(link.secret, { headers: { range: "bytes=0-999999999" } }), 410, "link-exhausted");
    expect((await shareLinkRow(link.id)).uses).toBe(2);
    expect(await linkAuditCount(link.id)).toBe(2);
  });

  test("stream mode answers 303 to the grant's URL, which serves the bytes named after the video; one use", async () => {
    const { link } = await sharedVideo({ maxDownloads: 5 });
    const res = await gateway(ticketPath(await click(link.secret, { query: "?mode=stream" })));
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="Quarterly review\.mp4"/);
    await expectMp4(res);
    expect((await shareLinkRow(link.id)).uses).toBe(1);
  });

  test("a client that is not a browser and names no mode is sent to the grant's URL (curl -L, even -X POST -L, gets the bytes); a browser's form post is redirected", async () => {
    const { link } = await sharedVideo({ maxDownloads: 5 });
    const curl = await gateway(`/s/${link.secret}`, { method: "POST", headers: { accept: "*/*" } });
    const path = ticketPath(curl);
    await expectMp4(await gateway(path));
    await expectMp4(await gateway(path, { method: "POST" }));
    const browser = await submitForm(link.secret, {});
    expect(browser.status).toBe(302);
    expect((await shareLinkRow(link.id)).uses).toBe(2);
  });

  test("with stream mode disabled, every client is redirected", async () => {
    const { link } = await sharedVideo({ maxDownloads: 5 });
    const res = await callWorker(envWith({ DELIVERY_MODES: "redirect" }), `/s/${link.secret}`, { method: "POST" });
    expect(res.status).toBe(302);
  });
});

describe("atomic exhaustion", () => {
  test("a 3-download link under 25 concurrent clicks: exactly 3 redirects, the rest 410 link-exhausted; uses = audit rows = 3", async () => {
    const { link } = await sharedVideo({ maxDownloads: 3 });
    const responses = await Promise.all(Array.from({ length: 25 }, () => click(link.secret)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 302)).toHaveLength(3);
    expect(statuses.filter((s) => s === 410)).toHaveLength(22);
    for (const res of responses) {
      if (res.status === 410) await expectProblem(res, 410, "link-exhausted");
      else await res.arrayBuffer();
    }
    expect((await shareLinkRow(link.id)).uses).toBe(3);
    expect(await linkAuditCount(link.id)).toBe(3);
  });
});

describe("the page's brand (BRAND_NAME, BRAND_LOGO_URL, BRAND_ACCENT)", () => {
  test("the app's name, logo and colour are shown, escaped, and the logo's origin is the only other one images may come from", async () => {
    const { uid } = await seedVideo(QUARTERLY);
    const branded = envWith({ BRAND_NAME: 'Acme <b>"Films"</b>', BRAND_LOGO_URL: "https://cdn.acme.example/logo.svg", BRAND_ACCENT: "#a31f34" });
    const created = await callWorker(branded, `/v1/videos/${uid}/share-links`, {
      method: "POST",
      token: await appToken(randomUser(), { videos: [uid] }),
      headers: { "content-type": "application/json" },
      body: '{"expiresIn":600}',
    });
    const { url } = (await created.json()) as { url: string };
    const res = await callWorker(branded, new URL(url).pathname, { headers: { accept: BROWSER } });
    const html = await res.text();
    expect(html).toContain("<span>Acme &lt;b&gt;&quot;Films&quot;&lt;/b&gt;</span>");
    expect(html).toContain('<img src="https://cdn.acme.example/logo.svg" alt="">');
    expect(html).toContain("--accent:#a31f34");
    expect(res.headers.get("content-security-policy")).toContain("img-src 'self' https://cdn.acme.example;");
  });

  test.each([
    [{ BRAND_ACCENT: "red;}body{display:none" }, "BRAND_ACCENT"],
    [{ BRAND_ACCENT: "#12345" }, "BRAND_ACCENT"],
    [{ BRAND_LOGO_URL: "javascript:alert(1)" }, "BRAND_LOGO_URL"],
    [{ BRAND_LOGO_URL: "http://cdn.acme.example/logo.png" }, "BRAND_LOGO_URL"],
    [{ BRAND_LOGO_URL: "https://x;sandbox/logo.png" }, "BRAND_LOGO_URL"],
    [{ BRAND_NAME: "x".repeat(81) }, "BRAND_NAME"],
  ])("%o is refused as misconfigured", async (settings, setting) => {
    const { link } = await sharedVideo();
    const problem = await expectProblem(await callWorker(envWith(settings), `/s/${link.secret}`), 500, "misconfigured");
    expect(problem.setting).toBe(setting);
  });
});

describe("passwords", () => {
  test("missing: 403; wrong: 403; right: 302 (JSON or form); the password is never echoed", async () => {
    const password = "open sesame 42";
    const { link } = await sharedVideo({ password });
    await expectProblem(await click(link.secret), 403, "not-entitled");
    await expectProblem(await click(link.secret, { password: "" }), 403, "not-entitled");
    const wrong = await click(link.secret, { password: "open sesame 43" });
    expect(await wrong.clone().text()).not.toContain("open sesame");
    await expectProblem(wrong, 403, "not-entitled");
    expect((await shareLinkRow(link.id)).uses).toBe(0);

    await expectMp4(await fetch(location(await click(link.secret, { password }))));
    expect(location(await submitForm(link.secret, { password })).origin).toBe(DELIVERY_BASE);
    expect((await shareLinkRow(link.id)).uses).toBe(2);
  });

  test("a revoked link's poster is refused like the link; an unknown link's is 404", async () => {
    const { link } = await sharedVideo();
    expect((await gateway(`/s/${link.secret}/poster.jpg`)).status).toBe(200);
    await admin("DELETE", `/v1/admin/share-links/${link.id}`);
    await expectProblem(await gateway(`/s/${link.secret}/poster.jpg`), 410, "link-revoked");
    await expectProblem(await gateway("/s/nope/poster.jpg"), 404, "not-found");
  });

  test("a browser with a wrong password gets the page back, with the reason and the field again, not a dead end", async () => {
    const { link } = await sharedVideo({ password: "the right one" });
    const wrong = await submitForm(link.secret, { password: "not it" });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await wrong.text();
    expect(html).toContain('<p class="error" role="alert">Wrong password.</p>');
    expect(html).toMatch(/<input[^>]*name="password"[^>]*type="password"/);
    expect(html).not.toContain("not it");
    expect((await shareLinkRow(link.id)).uses).toBe(0);
    expect(location(await submitForm(link.secret, { password: "the right one" })).origin).toBe(DELIVERY_BASE);
  });

  test("wrong passwords are rate-limited per link and network: after 10 attempts in a minute, 429 with Retry-After; the holder elsewhere is not locked out", async () => {
    await clearOfLimiterRollover();
    const { link } = await sharedVideo({ password: "the right one" });
    const other = await sharedVideo({ password: "the right one" });
    const from = (ip: string) => ({ "cf-connecting-ip": ip });

    for (let attempt = 1; attempt <= 10; attempt++) {
      await expectProblem(await click(link.secret, { password: `guess ${attempt}`, headers: from("2001:db8:5:6::1") }), 403, "not-entitled");
    }
    // Another address of the same IPv6 /64 is the same network.
    const limited = await click(link.secret, { password: "guess 11", headers: from("2001:db8:5:6::99") });
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    await expectProblem(limited, 429, "rate-limited");
    // A browser gets the page back with the reason, and the same Retry-After.
    const page = await gateway(`/s/${link.secret}`, {
      method: "POST",
      headers: { accept: BROWSER, "content-type": "application/x-www-form-urlencoded", ...from("2001:db8:5:6::1") },
      body: "password=guess+12",
    });
    expect({ status: page.status, retryAfter: page.headers.get("retry-after") }).toEqual({ status: 429, retryAfter: expect.stringMatching(/^\d+$/) });
    expect(await page.text()).toMatch(/Too many wrong passwords have been tried\. Try again in \d+ (seconds|minutes?)\./);

    // The holder, on another network, still gets in; another link is not slowed either.
    expect((await click(link.secret, { password: "the right one", headers: from("192.0.2.44") })).status).toBe(302);
    expect((await click(other.link.secret, { password: "the right one", headers: from("2001:db8:5:6::1") })).status).toBe(302);
  }, LIMITER_BURST_TIMEOUT_MS);

  test(`guesses spread over many networks meet the link's ceiling of ${PASSWORD_GUESSES}, which a network that entered the right password never meets`, async () => {
    const { link } = await sharedVideo({ password: "the right one", maxDownloads: 1000 });
    const from = (i: number) => ({ "cf-connecting-ip": `198.18.${Math.floor(i / 200)}.${i % 200}` });
    expect((await click(link.secret, { password: "the right one", headers: { "cf-connecting-ip": "192.0.2.7" } })).status).toBe(302);
    // The holder's own first attempt counted too (the link knew nothing of its network yet).
    const wrong = await Promise.all(Array.from({ length: PASSWORD_GUESSES - 1 }, async (_, i) => (await click(link.secret, { password: `guess ${i}`, headers: from(i) })).status));
    expect(wrong.filter((status) => status !== 403)).toEqual([]);
    const stopped = await click(link.secret, { password: "the right one", headers: from(PASSWORD_GUESSES + 1) });
    await expectProblem(stopped, 429, "rate-limited");
    expect(Number(stopped.headers.get("retry-after"))).toBeGreaterThan(60);
    // The holder's network is exempt.
    expect((await click(link.secret, { password: "the right one", headers: { "cf-connecting-ip": "192.0.2.7" } })).status).toBe(302);
  });
});
