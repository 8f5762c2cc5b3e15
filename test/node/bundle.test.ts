// The deployed Worker stays small (bench/README.md › bars: ≤ 300 kB): `wrangler deploy --dry-run`
// bundles src/index.ts as a deployment would. A stray `import { z }` from zod/mini's namespace,
// for one, pulls in every locale and more than doubles it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";

test("the deployed bundle is at most 300 kB", async () => {
  const out = await mkdtemp(join(tmpdir(), "sdg-bundle-"));
  try {
    await promisify(execFile)(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", out], {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_API_TOKEN: "", CI: "1" },
    });
    const bundle = await readFile(join(out, "index.js"), "utf8");
    expect(Buffer.byteLength(bundle)).toBeLessThanOrEqual(300 * 1024);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 60_000);
