// The browser side of the suite: Debian's Chromium through playwright-core (never a downloaded
// browser, docs/operations.md › Toolchain notes), downloads saved and read back, screenshots under screenshots/.
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
export const SCREENSHOTS = "screenshots";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
}

// axe-core's browser build, run in the page as a tester's browser extension would.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The ids of axe-core's rules the page breaks at `impacts` (every impact when none are named). */
export async function axeViolations(page: Page, impacts: string[] = []): Promise<string[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations.filter((v) => impacts.length === 0 || impacts.includes(v.impact ?? "")).map((v) => v.id);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface SavedDownload {
  filename: string;
  bytes: Buffer;
}

/** Rejects with Chromium's words when the page's Content Security Policy blocks something. */
function cspViolation(page: Page): { violation: Promise<never>; stop: () => void } {
  let listener: (message: ConsoleMessage) => void = () => {};
  const violation = new Promise<never>((_, reject) => {
    listener = (message) => {
      if (message.type() === "error" && message.text().includes("Content Security Policy")) reject(new Error(message.text()));
    };
  });
  page.on("console", listener);
  return { violation, stop: () => page.off("console", listener) };
}

/**
 * Runs `start` and saves the download it causes into `dir`, however long Stream takes to prepare
 * it. A download the page's Content Security Policy blocks fails at once rather than timing out.
 */
export async function saveDownload(page: Page, dir: string, start: () => Promise<unknown>, timeout = 45_000): Promise<SavedDownload> {
  const csp = cspViolation(page);
  const [download] = await Promise.race([Promise.all([page.waitForEvent("download", { timeout }), start()]), csp.violation]).finally(csp.stop);
  const filename = download.suggestedFilename();
  const path = join(mkdtempSync(join(dir, "d-")), filename);
  await download.saveAs(path);
  return { filename, bytes: readFileSync(path) };
}

/** An ISO BMFF file's first box is `ftyp`, its major brand right after (`isom`, `M4A `). */
export function fileType(bytes: Buffer): { box: string; brand: string } {
  return { box: bytes.subarray(4, 8).toString("latin1"), brand: bytes.subarray(8, 12).toString("latin1") };
}

export const fixture = (name: "sample.mp4" | "sample.m4a") => readFileSync(join("emulator/fixtures", name));
