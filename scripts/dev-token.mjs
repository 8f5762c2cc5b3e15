// `npm run token -- <user> [videos]`: prints an app token for local use, signed with the
// AUTH_HS256_SECRET of .dev.vars, as your app's backend would issue it. `videos` is a
// comma-separated list of UIDs or "*" (all videos); without it the token carries no videos
// claim and only D1 grants apply. A gateway that verifies tokens with AUTH_JWKS_URL accepts
// only your identity provider's tokens: then there is none to print, and it says so.
import { SignJWT } from "jose";
import { ensureDevVars, readGatewayVars } from "./lib/dev-vars.mjs";

/** Why no dev token can be printed: the gateway would not accept one. */
export class NoDevToken extends Error {}

/**
 * How the local gateway verifies app tokens (wrangler.toml's [vars], .dev.vars over them):
 * `{ secret }` when it accepts HS256 tokens signed here, `{ jwksUrl }` when your identity
 * provider issues them, `{ problem }` when the gateway would refuse its auth settings.
 * Blank values count as unset, as in the gateway (src/config/config.ts).
 */
export function devAuth(vars = readGatewayVars()) {
  const jwksUrl = vars.AUTH_JWKS_URL?.trim() || null;
  const secret = vars.AUTH_HS256_SECRET?.trim() || null;
  if (jwksUrl && secret) {
    return {
      problem:
        "AUTH_JWKS_URL and AUTH_HS256_SECRET are both set (in wrangler.toml [vars] or .dev.vars), and the gateway accepts " +
        "one auth source only. To verify your identity provider's tokens put AUTH_HS256_SECRET= (empty) in .dev.vars; " +
        "for HS256 dev tokens put AUTH_JWKS_URL= (empty) there.",
    };
  }
  if (jwksUrl) return { jwksUrl };
  if (secret) return { secret };
  return {
    problem:
      "Neither AUTH_HS256_SECRET nor AUTH_JWKS_URL is set (wrangler.toml [vars], .dev.vars): the gateway needs one. " +
      "For dev tokens put AUTH_HS256_SECRET=<at least 32 bytes> in .dev.vars.",
  };
}

/** The sentence for a gateway that takes its tokens from an identity provider. */
function jwksNotice(jwksUrl) {
  return (
    `The gateway verifies app tokens with the JWKS at ${jwksUrl} (AUTH_JWKS_URL): your identity provider issues the ` +
    "tokens. `npm run token` only signs HS256 dev tokens (AUTH_HS256_SECRET), which this gateway does not accept."
  );
}

export async function devToken(user, videos, ttlSeconds = 24 * 3600) {
  ensureDevVars();
  const auth = devAuth();
  if (auth.problem) throw new NoDevToken(auth.problem);
  if (auth.jwksUrl) throw new NoDevToken(jwksNotice(auth.jwksUrl));
  const claims = videos === undefined ? {} : { videos: videos === "*" ? "*" : videos.split(",") };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(auth.secret));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [user, videos] = process.argv.slice(2);
  if (!user) {
    console.error("usage: npm run token -- <user> [uid,uid,…|*]");
    process.exit(2);
  }
  try {
    console.log(await devToken(user, videos));
  } catch (error) {
    if (!(error instanceof NoDevToken)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
