// The shop: its own sign-in and purchases, and the download gateway mounted at /downloads.
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { downloads } from "./downloads";
import { shopPage, signInPage } from "./page";
import { purchasesOf } from "./purchases";
import { checkPassword, currentSession, endSession, startSession } from "./session";

// The Worker that binds STREAM_BUDGET must export its Durable Object class.
export { ShareLinkObject, StreamApiBudget } from "stream-download-gateway";

const app = new Hono<{ Bindings: Env }>();

// The shop's own forms: a form another site posts here is refused (by its Origin and Sec-Fetch-Site).
app.use("/login", csrf());
app.use("/logout", csrf());

app.get("/", async (c) => {
  const session = await currentSession(c, c.env.APP_DB);
  if (session === null) return c.html(signInPage());
  return c.html(shopPage(session.email, await purchasesOf(c.env.APP_DB, session.userId), session.csrfToken));
});

app.post("/login", async (c) => {
  const { email, password } = await c.req.parseBody();
  if (typeof email !== "string" || typeof password !== "string") return c.html(signInPage("Wrong email or password."), 401);
  // Guessing a password, or burning the Worker's CPU on password hashes, is slowed per address.
  if (!(await c.env.LOGIN_LIMITER.limit({ key: email.trim().toLowerCase() })).success) {
    return c.html(signInPage("Too many attempts; wait a minute."), 429);
  }
  const userId = await checkPassword(c.env.APP_DB, email, password);
  if (userId === null) return c.html(signInPage("Wrong email or password."), 401);
  await startSession(c, c.env.APP_DB, userId);
  return c.redirect("/", 303);
});

app.post("/logout", async (c) => {
  await endSession(c, c.env.APP_DB);
  return c.redirect("/", 303);
});

app.route("/downloads", downloads);

// The shop's fetch, with the gateway's audit queue and crons (retention, re-check).
export default downloads.worker(app) satisfies ExportedHandler<Env>;
