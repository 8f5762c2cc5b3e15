// `npm run build:client`: bundles the browser code of client/ into public/ with esbuild (≈ 20 ms):
// the download-button helper to public/assets/stream-download.js, the demo page's script to
// public/demo/demo.js. `npm run dev` (watching client/) and the Vitest config run it too; the
// outputs are not committed.
import { context } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const HELPER_URL = "/assets/stream-download.js";

const common = {
  absWorkingDir: root,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  legalComments: "none",
  logLevel: "warning",
};

const bundles = [
  {
    ...common,
    entryPoints: ["client/stream-download.ts"],
    outfile: `public${HELPER_URL}`,
    banner: { js: "// stream-download-gateway: the download-button helper. Source: client/stream-download.ts." },
  },
  // The demo loads the helper from its public URL, as an app would.
  { ...common, entryPoints: ["client/demo.ts"], outfile: "public/demo/demo.js", external: [HELPER_URL] },
];

/** Builds both bundles; with `watch`, keeps rebuilding them on changes (until the process ends). */
export async function buildClient({ watch = false } = {}) {
  await Promise.all(
    bundles.map(async (options) => {
      const ctx = await context(options);
      await ctx.rebuild();
      if (watch) await ctx.watch();
      else await ctx.dispose();
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildClient();
  console.log(`Built public${HELPER_URL} and public/demo/demo.js`);
}
