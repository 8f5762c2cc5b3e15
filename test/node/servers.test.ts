// scripts/lib/servers.mjs: what `npm run dev` shows of its servers' lines, and the record of
// where it runs that `npm run doctor` reads.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { DEV_SERVERS_FILE, maskCapabilities, recordDevServers, recordedDevServers } from "../../scripts/lib/servers.mjs";

describe("a server's lines as `npm run dev` shows them", () => {
  test("a share link's secret is cut to its first four characters, as the gateway's log lines cut it", () => {
    expect(maskCapabilities("[wrangler:info] POST /s/cVp5FTFBRczrOi589opVPREMr-z0t71y 303 See Other (45ms)")).toBe("[wrangler:info] POST /s/cVp5… 303 See Other (45ms)");
    expect(maskCapabilities("[wrangler:info] GET /s/cVp5FTFBRczrOi589opVPREMr-z0t71y/poster.jpg 200 OK (9ms)")).toBe("[wrangler:info] GET /s/cVp5…/poster.jpg 200 OK (9ms)");
  });

  test("a grant's ticket and a signed Stream token are left out; other paths are shown whole", () => {
    expect(maskCapabilities("[wrangler:info] GET /d/v1.eyJ2IjoxfQ.c2lnbmF0dXJl?x=1 206 Partial Content (3ms)")).toBe("[wrangler:info] GET /d/…?x=1 206 Partial Content (3ms)");
    expect(maskCapabilities("[wrangler:info] GET /eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.u7ey-Zd_X7/downloads/default.mp4 200 OK (8ms)")).toBe(
      "[wrangler:info] GET /eyJ…/downloads/default.mp4 200 OK (8ms)",
    );
    const plain = "[wrangler:info] GET /v1/share-links/Zm9vYmFy/uses 200 OK (4ms) and /demo/events";
    expect(maskCapabilities(plain)).toBe(plain);
  });
});

describe("the record of where `npm run dev` runs", () => {
  const dirs: string[] = [];
  const work = () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-servers-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test("what a running process recorded is read back, and nothing when there is no record", () => {
    const dir = work();
    expect(recordedDevServers(dir)).toBeNull();
    recordDevServers({ gateway: "http://localhost:8791", emulator: "http://localhost:8792" }, dir);
    expect(existsSync(join(dir, DEV_SERVERS_FILE))).toBe(true);
    expect(recordedDevServers(dir)).toEqual({ gateway: "http://localhost:8791", emulator: "http://localhost:8792" });
  });

  test("a record left by a process that is gone (killed before its exit handler ran) counts as none", () => {
    const dir = work();
    mkdirSync(join(dir, ".wrangler"));
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(dir, DEV_SERVERS_FILE), JSON.stringify({ gateway: "http://localhost:8791", emulator: "http://localhost:8792", pid: gone }));
    expect(recordedDevServers(dir)).toBeNull();
  });

  test("the record is removed when its process exits, and only by that process", () => {
    const dir = work();
    const script = `import { recordDevServers } from ${JSON.stringify(new URL("../../scripts/lib/servers.mjs", import.meta.url).href)};
      recordDevServers({ gateway: "http://localhost:1", emulator: "http://localhost:2" }, ${JSON.stringify(dir)});`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(dir, DEV_SERVERS_FILE))).toBe(false);

    // A later `npm run dev` in the same checkout owns the record: an earlier one exiting leaves it.
    const later = `import { writeFileSync } from "node:fs";
      import { recordDevServers } from ${JSON.stringify(new URL("../../scripts/lib/servers.mjs", import.meta.url).href)};
      recordDevServers({ gateway: "http://localhost:1", emulator: "http://localhost:2" }, ${JSON.stringify(dir)});
      writeFileSync(${JSON.stringify(join(dir, DEV_SERVERS_FILE))}, JSON.stringify({ gateway: "http://localhost:3", emulator: "http://localhost:4", pid: ${process.pid} }));`;
    expect(spawnSync(process.execPath, ["--input-type=module", "-e", later]).status).toBe(0);
    expect(recordedDevServers(dir)).toEqual({ gateway: "http://localhost:3", emulator: "http://localhost:4" });
  });
});
