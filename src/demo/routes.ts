// The demo page and its dev-only API (docs/client.md › Demo). Served only when DEMO_ENABLED is "true",
// which `npm run dev` sets; otherwise every /demo route is an unknown route (404).
import { Hono, type MiddlewareHandler } from "hono";
import * as z from "../input/zod";
import { deps } from "../gateway/context";
import { parseInput, readBody, readJsonBody } from "../input/validate";
import { identifyOnly, ipLimit } from "../routes/guards";
import { Problem, invalidRequest } from "../problems";
import { demoCookieName, SESSION_SECONDS, sessionCookie, signDemoToken } from "./session";
import { DEMO_USERS, demoUser } from "./users";
import { serveAsset, type WorkerEnv } from "./assets";
import { eventsFor, receiveEvent } from "./events";

const PAGE_HEADERS = {
  // Scripts and styles from the gateway's own origin only: no inline script, no eval.
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const NO_STORE = { "cache-control": "no-store" };

const SignInBody = z.strictObject({ user: z.string().check(z.maxLength(64)) });

/** The gateway's events are a few hundred bytes; a body past this is not one of them (413). */
const EVENT_MAX_BYTES = 64 * 1024;

const onlyWhenEnabled: MiddlewareHandler<WorkerEnv> = async (c, next) => {
  if (c.env.DEMO_ENABLED !== "true") throw new Problem("not-found", "No such route.");
  await next();
};

/** Development only (DEMO_ENABLED): not part of the API, so not in its OpenAPI document. */
export function demoRoutes(): Hono<WorkerEnv> {
  const routes = new Hono<WorkerEnv>();

  // In development the gateway's address opens the demo; otherwise the next handler answers.
  routes.get("/", async (c, next) => (c.env.DEMO_ENABLED === "true" ? c.redirect("/demo/", 302) : next()));

  routes.use("/demo", onlyWhenEnabled);
  routes.use("/demo/*", onlyWhenEnabled);

  // A JSON body is required, so a cross-site form cannot sign the browser in.
  routes.post("/demo/sign-in", async (c) => {
    const body = parseInput(SignInBody, await readJsonBody(c.req.raw, 1024), "body");
    const user = demoUser(body.user);
    if (!user) throw invalidRequest("user", `user must be one of ${DEMO_USERS.map((u) => u.id).join(", ")}`);
    const { config } = c.get("gateway");
    const { token, expiresAt } = await signDemoToken(config, user, Date.now());
    const cookieName = demoCookieName(config);
    const headers: Record<string, string> = { ...NO_STORE };
    if (cookieName !== null) headers["set-cookie"] = sessionCookie(cookieName, token, SESSION_SECONDS, c.req.raw);
    return c.json(
      {
        user: { id: user.id, name: user.name },
        videos: user.videos,
        token,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
        cookie: cookieName,
      },
      200,
      headers,
    );
  });

  routes.post("/demo/sign-out", (c) => {
    const cookieName = demoCookieName(c.get("gateway").config);
    const headers: Record<string, string> = { ...NO_STORE };
    if (cookieName !== null) headers["set-cookie"] = sessionCookie(cookieName, "", 0, c.req.raw);
    return c.body(null, 204, headers);
  });

  routes.get("/demo/users", (c) => c.json({ users: DEMO_USERS }, 200, NO_STORE));

  // The account's videos, with the gateway's own Stream client (the download path never lists them).
  // Rate-limited per IP: each call spends the gateway's Stream API budget.
  routes.get("/demo/videos", ipLimit, async (c) => c.json({ videos: await deps(c).stream.listVideos("oldest") }, 200, NO_STORE));

  // What the app's backend would hear: the gateway's events, which `npm run dev` sends here. The
  // body is read no further than its cap before the signature is checked: anyone can POST here.
  routes.post("/demo/events", async (c) => {
    const secret = c.env.EVENTS_SECRET;
    if (typeof secret !== "string" || secret === "") throw new Problem("not-found", "Events are off: EVENTS_SECRET is not set.");
    const body = new TextDecoder().decode(await readBody(c.req.raw, EVENT_MAX_BYTES));
    return receiveEvent(body, c.req.raw.headers, secret);
  });
  // Each user sees the events about them: link ids and other users' downloads are not for everyone.
  routes.get("/demo/events", identifyOnly({ allowCookie: false }), (c) => c.json({ events: eventsFor(c.var.user.id) }, 200, NO_STORE));

  // The page itself: public/demo/ (index.html, demo.css, and demo.js built from client/demo.ts).
  routes.get("/demo", (c) => serveAsset(c, PAGE_HEADERS));
  routes.get("/demo/*", (c) => serveAsset(c, PAGE_HEADERS));
  return routes;
}
