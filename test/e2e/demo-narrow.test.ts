// The demo page on a phone and without JavaScript (docs/client.md › Demo): at 375 px each share
// link is a card whose every column is on screen, and a browser without JavaScript is told that
// signing in needs it.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { axeViolations, launchChromium, screenshot } from "./browser";

const gateway = inject("gateway");
const KEYNOTE = "c0ffee00000000000000000000000001";

let browser: Browser;
let link: string;

/** Alice's app token, from the demo's own sign-in, and a share link of hers (by its public id). */
async function aliceLink(): Promise<string> {
  const signIn = await fetch(`${gateway}/demo/sign-in`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "alice" }) });
  const { token } = (await signIn.json()) as { token: string };
  const created = await fetch(`${gateway}/v1/videos/${KEYNOTE}/share-links`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "default", expiresIn: 3600, maxDownloads: 5, password: "narrow screens" }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

async function signedInAt(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${gateway}/demo/`);
  await page.getByTestId("sign-in-alice").click();
  await page.getByTestId(`link-${link}`).waitFor();
  return page;
}

beforeAll(async () => {
  browser = await launchChromium();
  link = await aliceLink();
});

afterAll(async () => {
  await browser?.close();
});

describe("the demo's share links at 375 px", () => {
  test("each link is a card: its downloads, status, Uses and Revoke are on screen, named, and nothing scrolls sideways", async () => {
    const page = await signedInAt(375);
    const row = page.getByTestId(`link-${link}`);
    const parts = {
      downloads: page.getByTestId(`link-uses-${link}`),
      status: page.getByTestId(`link-status-${link}`),
      uses: page.getByTestId(`show-uses-${link}`),
      revoke: page.getByTestId(`revoke-${link}`),
    };
    for (const [name, part] of Object.entries(parts)) {
      await part.scrollIntoViewIfNeeded();
      const box = await part.boundingBox();
      expect(box, name).not.toBeNull();
      expect(box!.x, name).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, name).toBeLessThanOrEqual(375);
    }
    expect(await parts.downloads.textContent()).toBe("0 of 5");
    expect(await parts.status.textContent()).toBe("Active");
    // Each value is named on its card, the way the column header names it on a wide screen.
    const label = (cell: typeof parts.downloads) => cell.evaluate((td) => getComputedStyle(td, "::before").content);
    expect(await label(parts.downloads)).toContain("Downloads");
    expect(await label(parts.status)).toContain("Status");
    expect(await row.evaluate((tr) => getComputedStyle(tr).display)).toBe("block");
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const table = page.getByTestId("links-table");
    expect(await table.evaluate((t) => t.scrollWidth <= t.clientWidth)).toBe(true);
    // Still a table with its column headers to a screen reader.
    expect(await page.getByRole("table", { name: "Share links you created, newest first" }).getByRole("columnheader", { name: "Downloads" }).count()).toBe(1);
    expect(await axeViolations(page, ["serious", "critical"])).toEqual([]);
    await screenshot(page, "12-demo-links-375");
    await page.context().close();
  });

  test("at 1280 px the links stay a table, with visible column headers", async () => {
    const page = await signedInAt(1280);
    expect(await page.getByTestId(`link-${link}`).evaluate((tr) => getComputedStyle(tr).display)).toBe("table-row");
    expect(await page.getByRole("columnheader", { name: "Status" }).isVisible()).toBe(true);
    expect(await axeViolations(page, ["serious", "critical"])).toEqual([]);
    await screenshot(page, "13-demo-links-1280");
    await page.context().close();
  });
});

describe("the demo without JavaScript", () => {
  test("says that signing in needs JavaScript, and how to try the gateway without it", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${gateway}/demo/`);
    const notice = page.getByTestId("needs-javascript");
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toContain("Signing in needs JavaScript");
    expect(await page.getByRole("button").count()).toBe(0);
    await context.close();
  });
});
