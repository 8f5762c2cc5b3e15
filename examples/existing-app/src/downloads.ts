// The download gateway, told who is signed in (the shop's session) and what they may download
// (the shop's purchases). Mounted at /downloads by src/index.ts.
import type { Context } from "hono";
import { optionsFromEnv, streamDownloads } from "stream-download-gateway";
import { hasPurchased } from "./purchases";
import { currentSession, type Session } from "./session";

export const downloads = streamDownloads((env: Env) => ({
  ...optionsFromEnv(env),
  // The gateway's own D1 database, beside the shop's APP_DB.
  bindings: { ...env, DB: env.GATEWAY_DB },
  // The audit queue's names in wrangler.toml.
  queues: { audit: "existing-app-audit" },
  identify: async (c, { allowCookie }) => {
    const session = await currentSession(c, env.APP_DB);
    if (session === null) return null;
    // allowCookie: a route that only hands out a file by GET, and the browser did not say another
    // site started the request (the gateway checks Sec-Fetch-Site before offering the cookie).
    return allowCookie || csrfTokenSent(c, session) ? { id: session.userId, claims: {} } : null;
  },
  // "grant": the right is the shop's and can be taken back (a refund), so the gateway asks again,
  // for the link's creator, whenever one of their share links is used.
  entitle: async (user, video) => ((await hasPurchased(env.APP_DB, user.id, video)) ? "grant" : null),
}));

// On routes that act (a download URL, share links), another site's form or script could send the
// cookie too. Those need the session's CSRF token as well, in a header: only the shop's own page
// has it (its <stream-download> buttons send it), other sites can neither read that page nor
// guess it, and a cross-site form cannot set a header.
function csrfTokenSent(c: Context, session: Session): boolean {
  const sent = new TextEncoder().encode(c.req.header("x-csrf-token") ?? "");
  const expected = new TextEncoder().encode(session.csrfToken);
  return sent.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(sent, expected);
}
