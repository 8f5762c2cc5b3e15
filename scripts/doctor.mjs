// `npm run doctor`: why do signed download links fail? See scripts/lib/doctor.mjs and docs/operations.md › Doctor.
import { runDoctor } from "./lib/doctor.mjs";

process.exitCode = await runDoctor(process.argv.slice(2));
