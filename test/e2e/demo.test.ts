// The demo page end to end in Chromium: sign in, download MP4 and M4A (ready at once, or after
// Stream prepared the file), share links with and without a password, revocation, a refusal.
// docs/client.md › Demo describes the page, its users and its data-testids.
import { linkNames } from "../../src/share-links/ids";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { axeViolations, fileType, fixture, launchChromium, saveDownload, screenshot, type SavedDownload } from "./browser";

const gateway = inject("gateway");
const dir = inject("downloads");
const KEYNOTE = "c0ffee00000000000000000000000001";
const PRODUCT_TOUR = "c0ffee00000000000000000000000002";
/** What a saved download must be: the emulator's fixture, by extension, first box, brand and size. */
const EXPECTED = {
  mp4: { fixture: "sample.mp4", box: "ftyp", brand: "isom" },
  m4a: { fixture: "sample.m4a", box: "ftyp", brand: "M4A " },
} as const;

function expectFile(file: SavedDownload, kind: keyof typeof EXPECTED): void {
  const { fixture: name, ...type } = EXPECTED[kind];
  expect(file.filename).toMatch(new RegExp(`\\.${kind}$`));
  expect(fileType(file.bytes)).toEqual(type);
  expect(file.bytes.length).toBe(fixture(name).length);
}

let browser: Browser;
let alice: Page;

async function signIn(context: BrowserContext, user: "alice" | "bob"): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${gateway}/demo/`);
  await page.getByTestId(`sign-in-${user}`).click();
  await page.getByTestId("session-state").getByText("Signed in as").waitFor();
  await page.getByTestId(`video-${KEYNOTE}`).waitFor();
  return page;
}

/** A context of its own: no cookie, no token, as someone the link was sent to. */
async function visit(url: string): Promise<{ page: Page; status: number | undefined }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(url);
  return { page, status: response?.status() };
}

async function createLink(
  page: Page,
  options: { type: "default" | "audio"; password?: string; max?: number; networks?: number },
): Promise<{ id: string; url: string }> {
  const field = page.getByTestId("share-url");
  const before = await field.inputValue();
  await page.getByTestId("share-video").selectOption(KEYNOTE);
  await page.getByTestId("share-type").selectOption(options.type);
  await page.getByTestId("share-password").fill(options.password ?? "");
  await page.getByTestId("share-max").fill(options.max === undefined ? "" : String(options.max));
  await page.getByTestId("share-networks").fill(options.networks === undefined ? "" : String(options.networks));
  await page.getByTestId("share-create").click();
  // Also runs in beforeAll, where expect.poll is not available.
  await page.waitForFunction(
    (previous) => (document.querySelector("[data-testid=share-url]") as HTMLInputElement).value !== previous,
    before,
  );
  const url = await field.inputValue();
  // The page lists the link by its public id, the digest of the URL's secret.
  const { publicId: id } = await linkNames(new URL(url).pathname.split("/").pop() ?? "");
  await page.getByTestId(`link-${id}`).waitFor();
  return { id, url };
}

/** A text on the page after pressing the button that loads it again (the list and the uses are the index, about a second behind). */
async function refreshed(page: Page, button: string, testId: string): Promise<string | null> {
  await page.getByTestId(button).click();
  return page.getByTestId(testId).textContent();
}

const statusLine = (page: Page, type: "default" | "audio", uid: string) =>
  page.getByTestId(`stream-download-status-${type}-${uid}`);

beforeAll(async () => {
  browser = await launchChromium();
  alice = await signIn(await browser.newContext(), "alice");
});

afterAll(async () => {
  await browser?.close();
});

describe("the demo page", () => {
  test("Alice signs in and sees the account's videos with their Stream state", async () => {
    await expect.poll(() => alice.getByTestId("session-state").textContent()).toMatch(/^Signed in as Alice /);
    expect(await alice.getByTestId(`video-state-${KEYNOTE}`).textContent()).toBe("ready");
    expect(await alice.getByRole("article", { name: "Product tour" }).isVisible()).toBe(true);
    await screenshot(alice, "01-signed-in");
  });

  test("a ready video downloads at once as the fixture's MP4", async () => {
    const file = await saveDownload(alice, dir, () => alice.getByTestId(`stream-download-default-${KEYNOTE}`).click());
    expectFile(file, "mp4");
    await expect.poll(() => statusLine(alice, "default", KEYNOTE).textContent()).toBe("Download started");
  });

  test("the plain link downloads the MP4 with the session cookie alone", async () => {
    const file = await saveDownload(alice, dir, () => alice.getByTestId(`cookie-link-${KEYNOTE}`).click());
    expectFile(file, "mp4");
  });

  test("the audio button downloads the fixture's M4A", async () => {
    const file = await saveDownload(alice, dir, () => alice.getByTestId(`stream-download-audio-${KEYNOTE}`).click());
    expectFile(file, "m4a");
    await expect.poll(() => statusLine(alice, "audio", KEYNOTE).textContent()).toBe("Download started");
  });

  test("a video without downloads shows the progress bar moving to completion, then saves the MP4", async () => {
    expect(await alice.getByTestId(`video-state-${PRODUCT_TOUR}`).textContent()).toBe("ready");
    // What the bar showed at every step, read when the element reports progress.
    const shown: Array<{ percent: number; bar: number; visible: boolean }> = [];
    await alice.exposeFunction("recordProgress", (step: (typeof shown)[number]) => void shown.push(step));
    await alice.evaluate(() => {
      document.addEventListener("stream-download-progress", (event) => {
        const bar = (event.target as HTMLElement).querySelector("progress");
        const record = (window as unknown as { recordProgress: (step: unknown) => void }).recordProgress;
        record({ percent: (event as CustomEvent<{ percentComplete: number }>).detail.percentComplete, bar: bar?.value, visible: bar?.hidden === false });
      });
    });
    const bar = alice.getByTestId(`stream-download-progress-default-${PRODUCT_TOUR}`);
    const file = await saveDownload(alice, dir, async () => {
      await alice.getByTestId(`stream-download-default-${PRODUCT_TOUR}`).click();
      await bar.waitFor({ state: "visible" });
      await expect.poll(() => statusLine(alice, "default", PRODUCT_TOUR).textContent()).toMatch(/^Preparing the file… \d+%$/);
      await screenshot(alice, "02-preparing");
    });
    await expect.poll(() => statusLine(alice, "default", PRODUCT_TOUR).textContent()).toBe("Download started");
    expect(await bar.isHidden()).toBe(true);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((step) => step.visible && step.bar === step.percent)).toBe(true);
    expect(shown.some((step) => step.percent < 100)).toBe(true);
    const percents = shown.map((step) => step.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expectFile(file, "mp4");
    await screenshot(alice, "03-download-started");
  });
});

describe("a share link", () => {
  test("opens without a session: the landing page, then the MP4", async () => {
    const link = await createLink(alice, { type: "default" });
    expect(link.url).toMatch(new RegExp(`^${gateway}/s/[A-Za-z0-9_-]{32}$`));
    await screenshot(alice, "04-share-link-created");

    const { page, status } = await visit(link.url);
    expect(status).toBe(200);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Launch keynote");
    expect(await page.getByText("shared this video with you to download").isVisible()).toBe(true);
    expect(await page.getByLabel("Password").count()).toBe(0);
    await screenshot(page, "05-share-landing");
    const file = await saveDownload(page, dir, () => page.getByRole("button", { name: "Download" }).click());
    expectFile(file, "mp4");

    // The list is the index, which the audit queue's consumer brings up to date about a second later.
    await expect.poll(() => refreshed(alice, "refresh-links", `link-uses-${link.id}`), { timeout: 15_000 }).toBe("1 of unlimited");

    // The app heard of it: the demo's receiver verified the gateway's signed events.
    await expect
      .poll(async () => {
        await alice.getByTestId("refresh-events").click();
        return alice.getByTestId("events").textContent();
      }, { timeout: 15_000 })
      .toMatch(/download\.granted link /);
    expect(await alice.getByTestId("event-link.created").count()).toBeGreaterThan(0);
  });

  test("used from more networks than allowed, it is paused; Alice sees its uses and reinstates it", async () => {
    const link = await createLink(alice, { type: "default", networks: 1 });
    const use = (ip: string) => fetch(link.url, { method: "POST", headers: { "cf-connecting-ip": ip }, redirect: "manual" });
    expect((await use("203.0.113.7")).status).toBe(303);
    // The request that would be a second network gets nothing, and pauses the link.
    expect((await use("198.51.100.9")).status).toBe(410);
    await expect.poll(() => refreshed(alice, "refresh-links", `link-status-${link.id}`), { timeout: 15_000 }).toBe("Paused: used from 2 networks");
    const { page, status } = await visit(link.url);
    expect(status).toBe(410);
    expect(await page.getByText("used from more places than the person who shared it allowed").isVisible()).toBe(true);

    await expect
      .poll(async () => {
        await alice.getByTestId(`show-uses-${link.id}`).click();
        return alice.getByTestId("uses-table").textContent();
      }, { timeout: 15_000 })
      .toContain("203.0.113.0/24");
    expect(await alice.getByTestId("uses-table").textContent()).not.toContain("198.51.100.0/24");
    await screenshot(alice, "10-link-paused");
    await alice.getByTestId(`reinstate-${link.id}`).click();
    await expect.poll(() => alice.getByTestId(`link-status-${link.id}`).textContent()).toBe("Active");
    expect((await use("192.0.2.1")).status).toBe(303);
    await expect
      .poll(async () => {
        await alice.getByTestId("refresh-events").click();
        return alice.getByTestId("event-link.suspended").count();
      }, { timeout: 15_000 })
      .toBeGreaterThan(0);
  });

  test("the demo page at 375 px never scrolls sideways", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
    const page = await signIn(context, "alice");
    await page.getByTestId("links-table").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, "11-demo-375");
    await context.close();
  });

});

describe("the share page a recipient sees", () => {
  let link: { id: string; url: string };
  beforeAll(async () => {
    link = await createLink(alice, { type: "default", max: 3 });
  });

  for (const width of [375, 1280]) {
    test(`at ${width} px: the poster, a button at least 44 px tall, no sideways scroll, no serious or critical axe violation`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (message) => void (message.type() === "error" && errors.push(message.text())));
      await page.goto(link.url);
      await page.waitForLoadState("networkidle");
      // Stream's thumbnail, through the view-only token, allowed by the page's CSP.
      expect(await page.locator("img.poster").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
      const button = await page.getByRole("button", { name: "Download" }).boundingBox();
      expect(button?.height).toBeGreaterThanOrEqual(44);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      // The page's own script (allowed by its nonce) wrote the expiry in the reader's time zone.
      expect(await page.locator("time[data-local]").textContent()).not.toMatch(/UTC$/);
      expect(await axeViolations(page, ["serious", "critical"])).toEqual([]);
      expect(errors).toEqual([]);
      await screenshot(page, `09-share-page-${width}`);
      await context.close();
    });
  }

  test("after a download the page says how many are left, without a reload", async () => {
    const { page } = await visit(link.url);
    expect(await page.locator("#remaining").textContent()).toBe("3");
    const file = await saveDownload(page, dir, () => page.getByRole("button", { name: "Download" }).click());
    expectFile(file, "mp4");
    await expect.poll(() => page.locator("#remaining").textContent(), { timeout: 10_000 }).toBe("2");
  });
});

describe("a password-protected share link", () => {
  let link: { id: string; url: string };
  beforeAll(async () => {
    link = await createLink(alice, { type: "audio", password: "open sesame" });
  });

  test("asks for the password, refuses a wrong one, then gives the M4A", async () => {
    const { page } = await visit(link.url);
    const password = page.getByLabel("Password");
    expect(await password.isVisible()).toBe(true);
    expect(await password.getAttribute("required")).not.toBeNull();
    await screenshot(page, "06-share-password");

    await password.fill("guess");
    const [refused] = await Promise.all([
      page.waitForResponse((res) => res.request().method() === "POST"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    expect(refused.status()).toBe(403);
    await page.getByText("Wrong password.").waitFor();

    await page.goto(link.url);
    await page.getByLabel("Password").fill("open sesame");
    const file = await saveDownload(page, dir, () => page.getByRole("button", { name: "Download" }).click());
    expectFile(file, "m4a");
  });

  test("once revoked in the list (after a confirmation), answers 410 with its page", async () => {
    await alice.getByTestId("refresh-links").click();
    // The first time Alice changes her mind; the second time she confirms.
    alice.once("dialog", (dialog) => void dialog.dismiss());
    await alice.getByTestId(`revoke-${link.id}`).click();
    expect(await alice.getByTestId(`link-status-${link.id}`).textContent()).toBe("Active");
    alice.once("dialog", (dialog) => void dialog.accept());
    await alice.getByTestId(`revoke-${link.id}`).click();
    await expect.poll(() => alice.getByTestId(`link-status-${link.id}`).textContent()).toBe("Revoked");
    expect(await alice.getByTestId("links-status").textContent()).toBe("Revoked the link to Launch keynote.");
    expect(await alice.getByTestId(`revoke-${link.id}`).isDisabled()).toBe(true);
    await screenshot(alice, "07-link-revoked-list");

    const revoked = await visit(link.url);
    expect(revoked.status).toBe(410);
    expect(await revoked.page.getByRole("heading", { level: 1 }).textContent()).toBe("This link has been turned off");
    expect(await revoked.page.locator('[data-problem="link-revoked"][data-status="410"]').isVisible()).toBe(true);
    expect(await revoked.page.getByText("link-revoked").count()).toBe(0);
    await screenshot(revoked.page, "08-link-revoked");
  });
});

describe("refusals", () => {
  test("Bob, not entitled to Product tour, sees the gateway's problem on the button", async () => {
    const bob = await signIn(await browser.newContext(), "bob");
    await bob.getByTestId(`stream-download-default-${PRODUCT_TOUR}`).click();
    const host = bob.locator(`stream-download[uid="${PRODUCT_TOUR}"][type="default"]`);
    await expect.poll(() => host.getAttribute("data-state")).toBe("error");
    expect(await host.getAttribute("data-problem-type")).toBe("not-entitled");
    expect(await statusLine(bob, "default", PRODUCT_TOUR).textContent()).toMatch(/^Not entitled to this video\./);
    await screenshot(bob, "09-not-entitled");
  });
});
