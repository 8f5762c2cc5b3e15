// Cross-site request forgery, refused by the gateway itself before any identify runs: on every
// route that changes state or hands a grant to a signed-in user, a browser request that another
// site started is refused, whatever the app's identify hook does with its cookie (docs/security.md
// › Cross-site requests). The web app's own origins (CORS_ORIGINS) may call, so an app on
// example.com keeps using a gateway on downloads.example.com. Exempt, by not using this: the
// signed webhooks, the bearer-only admin API and the anonymous share-link routes, where no
// ambient credential of a user is spent. The routes apply it as a guard (routes/guards.ts).

/**
 * Whether a browser says another site started this request. `Origin` is sent by every browser on
 * every POST, PUT and DELETE (and on a cross-origin fetch); `Sec-Fetch-Site` on every request
 * since 2023. A request with neither is not a browser's, and carries no ambient cookie of a user.
 */
export function foreignRequest(request: Request, allowedOrigins: readonly string[]): boolean {
  const own = (origin: string) => origin === new URL(request.url).origin || allowedOrigins.includes(origin);
  const origin = request.headers.get("origin");
  // "null" (a sandboxed frame, a privacy-sensitive redirect) is never our own origin nor listed.
  if (origin !== null) return !own(origin);
  switch (request.headers.get("sec-fetch-site")) {
    case "cross-site":
      return true;
    // A navigation (or an image) from a sibling subdomain carries no Origin, and "same-site" spans
    // every subdomain of the site: its Referer must name this origin or a listed one, and a page
    // that withholds it (Referrer-Policy: no-referrer) is not trusted.
    case "same-site": {
      const referer = URL.parse(request.headers.get("referer") ?? "");
      return referer === null || !own(referer.origin);
    }
    default:
      return false;
  }
}
