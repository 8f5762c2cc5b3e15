// The pages a share link's visitor sees, as a browser gets them (docs/http-api.md › Share links):
// a link that cannot be used answers with a branded page that says what happened, why and what
// to do next, never the same sentence twice, and tells whoever holds the URL nothing it should
// not; every page speaks the visitor's language (Accept-Language, or RECIPIENT_LANGUAGE).
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { seedVideo } from "../emulator/helpers";
import { admin, appToken, callWorker, type CreatedLink, createShareLink, envWith, expectProblem, gateway, randomUser } from "../helpers";

const NAME = "Harbour cut";
const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const BRANDED = { BRAND_NAME: "Acme Films", BRAND_ACCENT: "#a31f34" };

async function linkTo(body: Record<string, unknown> = {}, seed: Record<string, unknown> = {}): Promise<{ uid: string; link: CreatedLink; user: string }> {
  const { uid } = await seedVideo({ name: NAME, downloads: { default: "ready", audio: "ready" }, ...seed });
  const user = randomUser();
  const link = await createShareLink(uid, await appToken(user, { videos: [uid] }), body);
  return { uid, link, user };
}

/** The Download button, pressed by a program from `ip`. */
const press = (secret: string, ip = "203.0.113.10") => gateway(`/s/${secret}?mode=redirect`, { method: "POST", headers: { "cf-connecting-ip": ip } });

/** The page a browser asking in `language` gets, under the brand unless told otherwise. */
function open(secret: string, language?: string, settings: Record<string, string> = BRANDED): Promise<Response> {
  return callWorker(envWith(settings), `/s/${secret}`, { headers: { accept: BROWSER, ...(language === undefined ? {} : { "accept-language": language }) } });
}

const decode = (html: string) =>
  html.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/[\u00a0\u202f]/g, " ");

/** What a person reads in the page's card, block by block (heading, paragraphs, list rows, buttons), without markup. */
function readable(html: string): { heading: string; blocks: string[] } {
  const card = html.slice(html.indexOf("<main>"), html.indexOf("</main>"));
  const blocks = [...card.matchAll(/<(h1|p|dt|dd|label|button|span)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((m) => decode((m[2] ?? "").replace(/<[^>]+>/g, "")).trim());
  return { heading: decode(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? ""), blocks };
}

const sentences = (blocks: string[]) => blocks.flatMap((block) => block.split(/(?<=[.!?。])\s*/)).map((s) => s.trim()).filter((s) => /[.!?。]$/.test(s));

/** The lede: what happened, with the problem's type and status as attributes. */
const lede = (html: string) => /<p class="lede" data-problem="([^"]+)" data-status="(\d+)">([\s\S]*?)<\/p>/.exec(html);

describe("dead ends", () => {
  const states = {
    "link-exhausted": async () => {
      const made = await linkTo({ maxDownloads: 2 });
      for (const ip of ["203.0.113.10", "198.51.100.20"]) expect((await press(made.link.secret, ip)).status).toBe(302);
      return made;
    },
    "link-expired": async () => {
      const made = await linkTo();
      await env.DB.prepare("UPDATE share_links SET expires_at = ?1 WHERE public_id = ?2").bind(Date.UTC(2026, 0, 2, 13, 5), made.link.id).run();
      return made;
    },
    "link-revoked": async () => {
      const made = await linkTo();
      expect((await admin("DELETE", `/v1/admin/share-links/${made.link.id}`)).status).toBe(204);
      return made;
    },
    "link-suspended": async () => {
      const made = await linkTo({ maxNetworks: 1 });
      expect((await press(made.link.secret, "203.0.113.10")).status).toBe(302);
      expect((await press(made.link.secret, "198.51.100.20")).status).toBe(410);
      return made;
    },
  };

  const EXPECTED = {
    "link-exhausted": {
      heading: "This link has been used up",
      why: "Every download it allowed has been used (2 of 2).",
      next: "If you still need the file, ask the person who shared it with you for a new link.",
      file: true,
    },
    "link-expired": {
      heading: "This link has expired",
      why: "It could be used until Jan 2, 2026, 1:05 PM UTC.",
      next: "If you still need the file, ask the person who shared it with you for a new link.",
      file: true,
    },
    "link-revoked": {
      heading: "This link has been turned off",
      why: /^It was turned off on \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M UTC and will not work again\.$/,
      next: "If you think you should still have the file, ask the person who shared it with you.",
      file: false,
    },
    "link-suspended": {
      heading: "This link is suspended",
      why: "It was suspended because it was used from more places than the person who shared it allowed.",
      next: "Let them know: they can check where it was used and turn it back on.",
      file: false,
    },
  };

  test.each(Object.keys(states) as Array<keyof typeof states>)("%s: the brand, a heading, why and what next in different sentences; JSON clients keep the problem", async (state) => {
    const { link } = await states[state]();
    const expected = EXPECTED[state];
    const res = await open(link.secret);
    expect(res.status).toBe(410);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-robots-tag")).toMatch(/noindex/);
    expect(res.headers.get("vary")).toBe("Accept-Language");
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("<span>Acme Films</span>");
    expect(html).toContain("--accent:#a31f34");

    const { heading, blocks } = readable(html);
    expect(heading).toBe(expected.heading);
    expect(html).toContain(`<title>${expected.heading}</title>`);
    const [, type, status, why = ""] = lede(html) ?? [];
    expect({ type, status }).toEqual({ type: state, status: "410" });
    expect(decode(why.replace(/<[^>]+>/g, ""))).toEqual(typeof expected.why === "string" ? expected.why : expect.stringMatching(expected.why));
    expect(blocks).toContain(expected.next);
    // More than one sentence, none of them twice, and the heading is not one of them again.
    const said = sentences(blocks);
    expect(said.length).toBeGreaterThanOrEqual(2);
    expect(new Set(said).size).toBe(said.length);
    expect(said.map((s) => s.replace(/[.。]$/, ""))).not.toContain(heading);
    // The machine's slug is an attribute, never text a person reads.
    expect(blocks.join(" ")).not.toMatch(/link-|410/);

    // What was shared: its title (as the link kept it) and kind where the link ran its course,
    // nothing where it was withdrawn or has travelled too far.
    expect(blocks.includes("Video (MP4)")).toBe(expected.file);
    expect(blocks.includes(NAME)).toBe(expected.file);
    if (!expected.file) expect(html).not.toContain(NAME);
    expect(html).not.toContain("poster.jpg");

    await expectProblem(await gateway(`/s/${link.secret}`), 410, state);
  });

  test("the expired and revoked pages write their moment in the reader's zone by a script the CSP allows; the others carry no script", async () => {
    const expired = (await states["link-expired"]()).link;
    const res = await open(expired.secret);
    const html = await res.text();
    expect(html).toContain(`<time data-local="en" datetime="2026-01-02T13:05:00.000Z">`);
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get("content-security-policy") ?? "")?.[1];
    expect(nonce).toBeTruthy();
    expect([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1])).toEqual([` nonce="${nonce}"`]);
    // No form on a dead end: the form-action stays the gateway's own.
    expect(res.headers.get("content-security-policy")).toMatch(/form-action 'self'$/);

    const revoked = await open((await states["link-revoked"]()).link.secret);
    expect(revoked.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
    expect(await revoked.text()).toMatch(/<time data-local="en" datetime="[^"]+">/);

    const suspended = await open((await states["link-suspended"]()).link.secret);
    expect(suspended.headers.get("content-security-policy")).not.toContain("script-src");
    expect(await suspended.text()).not.toContain("<script");
  });

  test("a browser's POST to a used-up link from a network that holds no grant gets the same page", async () => {
    const { link } = await states["link-exhausted"]();
    const res = await gateway(`/s/${link.secret}`, {
      method: "POST",
      headers: { accept: BROWSER, "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "192.0.2.99", "accept-language": "de" },
      body: "",
    });
    expect(res.status).toBe(410);
    const html = await res.text();
    expect(html).toContain('<html lang="de">');
    expect(readable(html).heading).toBe("Dieser Link ist aufgebraucht");
  });

  test("paused because its creator's grant lapsed: why, and that it works again when their access returns", async () => {
    const { uid } = await seedVideo({ name: NAME, downloads: { default: "ready" } });
    const user = randomUser();
    expect((await admin("PUT", "/v1/admin/grants", { grants: [{ user, video: uid }] })).status).toBe(200);
    const link = await createShareLink(uid, await appToken(user));
    await env.DB.prepare("UPDATE grants SET expires_at = ?1 WHERE user_id = ?2 AND video_id = ?3").bind(Date.now() - 1000, user, uid).run();

    const res = await open(link.secret);
    expect(res.status).toBe(410);
    const html = await res.text();
    expect(readable(html).heading).toBe("This link is on hold");
    expect(lede(html)?.[3]).toBe("The person who shared it no longer has access to this file.");
    expect(readable(html).blocks).toContain("It works again as soon as their access returns, so try again later or ask them about it.");
    expect(html).not.toContain("Video (MP4)");
    expect(html).not.toContain(NAME);
    const problem = await expectProblem(await gateway(`/s/${link.secret}`), 410, "link-paused");
    expect(problem.detail).toMatch(/works again if their access returns/);
  });

  test("paused because its video is held (before the block's revocation reaches it): why, and that it works again", async () => {
    const { uid, link } = await linkTo();
    await env.DB.prepare("INSERT INTO blocked_videos (video_id, blocked_at, reason) VALUES (?1, ?2, NULL)").bind(uid, Date.now()).run();
    const html = await (await open(link.secret)).text();
    expect(lede(html)?.slice(1)).toEqual(["link-paused", "410", "The file it leads to is not available at the moment."]);
    expect(readable(html).blocks).toContain("It works again once the file is available, so try again later.");
    expect(html).not.toContain(NAME);
  });

  test.each(["A".repeat(32), "too-short"])("an unknown link %j: a branded 404 page that says what to check, with no script", async (id) => {
    const res = await open(id);
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain("<span>Acme Films</span>");
    expect(readable(html).heading).toBe("This link does not work");
    expect(lede(html)?.slice(1)).toEqual(["not-found", "404", "There is no shared download at this address."]);
    expect(html).not.toContain("<script");
    await expectProblem(await gateway(`/s/${id}`), 404, "not-found");
  });
});

describe("the visitor's language", () => {
  test.each([
    ["de-DE,de;q=0.9,en;q=0.5", "de", "Herunterladen", "Datei", "Video (MP4)", "4 Sek.", "68 kB", /^\d{1,2}\. \S+ \d{4}, \d{2}:\d{2} UTC$/, /^in (59|60) Minuten$/],
    ["fr-CH, fr;q=0.9", "fr", "Télécharger", "Fichier", "Vidéo (MP4)", "4 s", "68 ko", /^\d{1,2} \S+ \d{4}, \d{2}:\d{2} UTC$/, /^dans (59|60) minutes$/],
    // Latin American Spanish writes a 12-hour clock: the region is followed, not only the language.
    ["es-419,es;q=0.9", "es", "Descargar", "Archivo", "Vídeo (MP4)", "4 s", "68 kB", /^\d{1,2} \S+ \d{4}, \d{1,2}:\d{2} [ap]\.\s?m\. UTC$/, /^dentro de (59|60) minutos$/],
    ["ja", "ja", "ダウンロード", "ファイル", "動画（MP4）", "4 秒", "68 KB", /^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2} UTC$/, /^(59|60) 分後$/],
    ["en-GB", "en", "Download", "File", "Video (MP4)", "4 secs", "68 kB", /^\d{1,2} \S+ \d{4}, \d{2}:\d{2} UTC$/, /^in (59|60) minutes$/],
    ["pt-BR,pt;q=0.9", "en", "Download", "File", "Video (MP4)", "4 sec", "68 kB", /^\S+ \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M UTC$/, /^in (59|60) minutes$/],
  ])("asked %j, the landing page answers in %s: its button, labels, length, size, dates", async (asked, lang, button, fileLabel, kind, length, size, date, left) => {
    const { link } = await linkTo({ maxDownloads: 3 });
    // The first view asks Stream for the file's size; the second shows it.
    await (await open(link.secret)).arrayBuffer();
    const res = await open(link.secret, asked);
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toBe("Accept-Language");
    const html = decode(await res.text());
    expect(html).toContain(`<html lang="${lang}">`);
    expect(html).toMatch(new RegExp(`<button type="submit">${button}</button>`));
    expect(html).toContain(`<dt>${fileLabel}</dt><dd>${kind}</dd>`);
    expect(html).toMatch(new RegExp(`<dd>${length}</dd>`));
    expect(html).toMatch(new RegExp(`<dd>${size}</dd>`));
    const time = /<time data-local="([^"]+)" datetime="[^"]+">([^<]+)<\/time>[ （(]+([^)）]+)[)）]/.exec(html);
    expect(time?.[2]).toMatch(date);
    expect(time?.[3]).toMatch(left);
    expect(html).toContain(`<h1>${NAME}</h1>`);
  });

  test("the password prompt and a wrong password, in German", async () => {
    const { link } = await linkTo({ password: "richtig und lang" });
    const prompt = await (await open(link.secret, "de")).text();
    expect(prompt).toContain('<label for="password">Passwort</label>');
    const wrong = await gateway(`/s/${link.secret}`, {
      method: "POST",
      headers: { accept: BROWSER, "accept-language": "de", "content-type": "application/x-www-form-urlencoded" },
      body: "password=falsch",
    });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get("vary")).toBe("Accept-Language");
    const html = await wrong.text();
    expect(html).toContain('<p class="error" role="alert">Falsches Passwort.</p>');
    expect(html).toContain('<html lang="de">');
  });

  test("a password left empty is asked for, not called wrong", async () => {
    const { link } = await linkTo({ password: "right and long" });
    const res = await gateway(`/s/${link.secret}`, {
      method: "POST",
      headers: { accept: BROWSER, "content-type": "application/x-www-form-urlencoded" },
      body: "password=",
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<p class="error" role="alert">Enter the password to download.</p>');
  });

  test("the preparing page, in Spanish, with the script's words in Spanish too", async () => {
    const { link } = await linkTo({}, { downloads: {}, downloadSeconds: 60 });
    const res = await gateway(`/s/${link.secret}`, {
      method: "POST",
      headers: { accept: BROWSER, "accept-language": "es-ES", "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(res.status).toBe(202);
    const html = await res.text();
    expect(html).toContain('<html lang="es">');
    expect(html).toContain("El archivo se está preparando.");
    expect(html).toContain('aria-label="Progreso de la preparación"');
    expect(html).toContain('<button type="submit">Comprobar de nuevo</button>');
  });

  test("the landing page's script says 'none left' in the page's language", async () => {
    const { link } = await linkTo({ maxDownloads: 1 });
    const html = await (await open(link.secret, "ja")).text();
    expect(html).toContain('"noneLeft":"ダウンロード回数が残っていません"');
    expect(html).toContain('"stopped":"このリンクはもう使えません"');
  });

  test("a used-up link's page in Japanese, and an unknown link's in French", async () => {
    const { link } = await linkTo({ maxDownloads: 1 });
    expect((await press(link.secret)).status).toBe(302);
    const used = await (await open(link.secret, "ja-JP")).text();
    expect(used).toContain('<html lang="ja">');
    expect(readable(used).heading).toBe("このリンクは使い切られました");
    expect(lede(used)?.[3]).toBe("許可されたダウンロードはすべて使われました（1 回中 1 回）。");

    const unknown = await (await open("B".repeat(32), "fr")).text();
    expect(unknown).toContain('<html lang="fr">');
    expect(readable(unknown).heading).toBe("Ce lien ne fonctionne pas");
  });

  test("RECIPIENT_LANGUAGE pins one language whatever the browser asks, and the page then does not vary", async () => {
    const { link } = await linkTo();
    const res = await open(link.secret, "fr-FR,fr;q=0.9", { ...BRANDED, RECIPIENT_LANGUAGE: "ja" });
    expect(res.headers.get("vary")).toBeNull();
    const html = await res.text();
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('<button type="submit">ダウンロード</button>');
  });

  test("a JSON client gets the same facts whatever the language asked", async () => {
    const { link } = await linkTo();
    const english = await (await gateway(`/s/${link.secret}`)).json();
    const french = await (await gateway(`/s/${link.secret}`, { headers: { "accept-language": "fr" } })).json();
    expect(french).toEqual(english);
  });
});
