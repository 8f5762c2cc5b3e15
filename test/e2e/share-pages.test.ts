// The pages a share link's recipient sees, in Chromium with axe-core (docs/http-api.md › Share
// links): a used-up link's page at 375 and 1280 px has no axe violation, explains itself in more
// than one plain sentence and repeats nothing; the landing page asked in French answers in French.
// Links are made through the API with a token the suite's own dev settings sign.
import { SignJWT } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { axeViolations, launchChromium, screenshot } from "./browser";

const gateway = inject("gateway");
const KEYNOTE = "c0ffee00000000000000000000000001";

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** A share link to the keynote, made as a user entitled by claim, as the app would. */
async function shareLink(body: Record<string, unknown>): Promise<string> {
  const secret = new TextEncoder().encode(readDevVars(inject("devVarsFile"))["AUTH_HS256_SECRET"]);
  const token = await new SignJWT({ videos: [KEYNOTE] }).setProtectedHeader({ alg: "HS256" }).setSubject(`e2e-${crypto.randomUUID()}`).setIssuedAt().setExpirationTime("10m").sign(secret);
  const res = await fetch(`${gateway}/v1/videos/${KEYNOTE}/share-links`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "default", expiresIn: 3600, ...body }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

/** What a person reads in the card, block by block, as Chromium renders it. */
const readBlocks = (page: Page) => page.locator("main h1, main p, main dt, main dd, main button, main label").allInnerTexts();

const sentences = (blocks: string[]) =>
  blocks
    .flatMap((block) => block.split(/(?<=[.!?。])\s+/))
    .map((s) => s.trim())
    .filter((s) => /[.!?。]$/.test(s));

describe("a used-up link", () => {
  let url: string;
  beforeAll(async () => {
    url = await shareLink({ maxDownloads: 1 });
    const used = await fetch(url, { method: "POST", redirect: "manual" });
    expect(used.status).toBe(303);
    await used.body?.cancel();
  });

  for (const width of [375, 1280]) {
    test(`at ${width} px: no axe violation, more than one plain sentence, nothing said twice, no sideways scroll`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      // A script error or a CSP refusal fails the page; failed loads do not (Chromium reports the
      // page's own 410 as one, and its favicon request, which the gateway answers 404).
      const errors: string[] = [];
      page.on("pageerror", (error) => void errors.push(error.message));
      page.on("console", (message) => void (message.type() === "error" && !message.text().startsWith("Failed to load resource") && errors.push(message.text())));
      const response = await page.goto(url);
      expect(response?.status()).toBe(410);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe("en");
      const heading = await page.getByRole("heading", { level: 1 }).innerText();
      expect(heading).toBe("This link has been used up");

      const said = sentences(await readBlocks(page));
      expect(said).toEqual([
        "Every download it allowed has been used (1 of 1).",
        "If you still need the file, ask the person who shared it with you for a new link.",
      ]);
      // The machine's slug and status are attributes, never text a person reads.
      expect(await page.locator('[data-problem="link-exhausted"][data-status="410"]').isVisible()).toBe(true);
      expect(await page.locator("main").innerText()).not.toMatch(/link-exhausted|410/);

      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
      await screenshot(page, `share-used-up-${width}`);
      await context.close();
    });
  }
});

describe("the landing page asked in French", () => {
  test("answers in French: <html lang=\"fr\">, the button and the facts in French, no axe violation", async () => {
    const url = await shareLink({ maxDownloads: 3 });
    const context = await browser.newContext({ viewport: { width: 375, height: 900 }, locale: "fr-FR", extraHTTPHeaders: { "accept-language": "fr-FR,fr;q=0.9,en;q=0.5" } });
    const page = await context.newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["vary"]).toBe("Accept-Language");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("fr");
    const button = page.getByRole("button", { name: "Télécharger" });
    expect(await button.isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Download" }).count()).toBe(0);
    expect(await page.getByText("Téléchargements restants").isVisible()).toBe(true);
    expect(await page.getByText("a partagé cette vidéo avec vous").isVisible()).toBe(true);
    // The page's script wrote the expiry in the reader's zone, in French (an hour after midnight reads 0:05).
    expect(await page.locator("time[data-local]").innerText()).toMatch(/^\d{1,2} \S+ \d{4}(,| à) \d{1,2}:\d{2}$/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "share-page-fr-375");
    await context.close();
  });
});
