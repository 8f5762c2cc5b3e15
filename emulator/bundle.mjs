// The emulator as one ES module string, for hosts that take a script rather than a wrangler
// config: the workerd tests' auxiliary Worker (vitest.config.ts) and Miniflare in Node tests
// (docs/operations.md › Toolchain notes). wrangler dev uses emulator/wrangler.toml instead.
import { build } from "esbuild";

export async function bundleEmulator() {
  const result = await build({
    entryPoints: [new URL("./src/index.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    loader: { ".mp4": "binary", ".m4a": "binary", ".jpg": "binary" },
    external: ["cloudflare:*"],
    write: false,
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild produced no emulator bundle");
  return output.text;
}
