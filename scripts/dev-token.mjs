// `npm run token -- <user> [videos]`: prints an app token for local use, signed with the
// AUTH_HS256_SECRET of .dev.vars, as your app's backend would issue it. `videos` is a
// comma-separated list of UIDs or "*" (all videos); without it the token carries no videos
// claim and only D1 grants apply.
import { SignJWT } from "jose";
import { ensureDevVars, readDevVars } from "./lib/dev-vars.mjs";

export async function devToken(user, videos, ttlSeconds = 24 * 3600) {
  ensureDevVars();
  const secret = readDevVars().AUTH_HS256_SECRET;
  if (!secret) throw new Error(".dev.vars has no AUTH_HS256_SECRET: this gateway is not set up for HS256 app tokens");
  const claims = videos === undefined ? {} : { videos: videos === "*" ? "*" : videos.split(",") };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [user, videos] = process.argv.slice(2);
  if (!user) {
    console.error("usage: npm run token -- <user> [uid,uid,…|*]");
    process.exit(2);
  }
  console.log(await devToken(user, videos));
}
