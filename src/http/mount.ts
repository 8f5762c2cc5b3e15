// Where the gateway is mounted in the Hono app that serves it: "" at the root, "/downloads" under
// `app.route("/downloads", …)`. Every URL the gateway hands out (share links, grant tickets, the
// landing page's form) starts there, so the gateway works under any prefix of someone else's app.
import type { Context } from "hono";
import { basePath } from "hono/route";

export function mountPath(c: Context): string {
  return basePath(c).replace(/\/+$/, "");
}
