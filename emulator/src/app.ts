import { Hono } from "hono";
import { downloadRoutes } from "./api/downloads";
import { keyRoutes } from "./api/keys";
import { queueRoutes, subscriptionRoutes } from "./api/subscriptions";
import { tokenRoutes } from "./api/token";
import { videoRoutes } from "./api/videos";
import { webhookRoutes } from "./api/webhook";
import { controlRoutes } from "./control/routes";
import { deliver, thumbnail } from "./delivery/serve";
import type { Emulator } from "./emulator";
import { fail, noRoute } from "./envelope";

// API paths and delivery paths never overlap, so one origin can play both
// api.cloudflare.com and customer-<code>.cloudflarestream.com.
export function buildApp(emulator: Emulator): Hono {
  const app = new Hono();
  const account = "/client/v4/accounts/:account";
  const stream = `${account}/stream`;
  const uid = ":uid{[0-9a-f]{32}}";

  app.route("/__emulator", controlRoutes(emulator));
  app.route(`${stream}/keys`, keyRoutes(emulator));
  app.route(`${stream}/webhook`, webhookRoutes(emulator));
  app.route(`${stream}/${uid}/downloads`, downloadRoutes(emulator));
  app.route(`${stream}/${uid}/token`, tokenRoutes(emulator));
  app.route(stream, videoRoutes(emulator));
  app.route(`${account}/event_subscriptions/subscriptions`, subscriptionRoutes(emulator));
  app.route(`${account}/queues`, queueRoutes(emulator));
  app.on(["GET", "HEAD"], "/:id/thumbnails/thumbnail.jpg", (c) => thumbnail(emulator, c.req.raw, c.req.param("id")));
  app.on(["GET", "HEAD"], "/:id/downloads/:file", (c) =>
    deliver(emulator, c.req.raw, c.req.param("id"), c.req.param("file")),
  );

  app.notFound((c) =>
    c.req.path.startsWith("/client/v4/") ? noRoute(c.req.path.slice("/client/v4".length)) : c.text("Not Found\n", 404),
  );
  app.onError((error, c) => {
    console.error("emulator error", error);
    return c.req.path.startsWith("/client/v4/")
      ? fail(500, [{ code: 10002, message: "Internal Server Error" }])
      : c.text("Internal Server Error\n", 500);
  });
  return app;
}
