// Setup of the "gateway-quirks" project (vitest.config.ts): before each file, the emulator answers
// every undocumented choice the other way (emulator/README.md › Assumptions).
import { beforeAll } from "vitest";
import { control } from "./emulator/helpers";

beforeAll(async () => {
  await control("PUT", "/quirks", {
    createResponse: "flat",
    videoFields: "sparse",
    notReadyCreate: { status: 422, code: 10_000 },
    erroredReadyToStream: true,
    deliveryNotReady: 424,
    createRequiresBody: true,
    downloadFields: "sparse",
    webhookUrlField: "snake",
  });
});
