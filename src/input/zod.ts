// The one zod the gateway validates with: zod/mini, whose functions tree-shake (the classic API
// alone was most of the Worker's bundle), with English messages, which invalid-request problems
// carry as their detail. Imported as a namespace (`import * as z`), so that the bundler keeps
// only the functions used.
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
