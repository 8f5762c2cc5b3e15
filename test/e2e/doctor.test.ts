// `npm run doctor` with no arguments against the pair `npm run dev` runs (here the suite's own
// pair, on its ports and with its settings): every check passes, including the webhook, a
// sampled video's first byte and the gateway's /healthz.
import { expect, inject, test } from "vitest";
import { readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { runDoctor } from "../../scripts/lib/doctor.mjs";

test("npm run doctor passes against the local pair", async () => {
  const gatewayPort = new URL(inject("gateway")).port;
  const emulatorPort = new URL(inject("emulator")).port;
  let output = "";
  const code = await runDoctor([], {
    env: { ...process.env, ...readDevVars(inject("devVarsFile")), PORT: gatewayPort, EMULATOR_PORT: emulatorPort },
    out: { write: (text: string) => (output += text) },
  });
  expect(output).toMatch(/✓ video [0-9a-f]{32}: .*\(206\)/);
  expect(output).toContain(`✓ gateway: http://localhost:${gatewayPort}/healthz answers`);
  expect(output).toContain(`✓ webhook: Stream calls http://localhost:${gatewayPort}/webhooks/stream`);
  expect(output).toMatch(/✓ audit consumer: (no audit event sent yet|the audit queue is consumed)/);
  expect(code, output).toBe(0);
});
