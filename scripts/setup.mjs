// `npm run setup`: a Stream signing key and webhook for the gateway, stored as its secrets
// (docs/configuration.md). `npm run setup -- --help` lists the options; the logic is in lib/stream-setup.mjs.
import { runSetup } from "./lib/stream-setup.mjs";

process.exitCode = await runSetup(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
