import { Hono } from "hono";
import { z } from "zod";
import { badRequest, noRoute, ok } from "../envelope";
import type { Emulator } from "../emulator";
import type { Quirks } from "../quirks";
import type { WebhookSubscription } from "../store";
import { randomHex } from "../videos";
import { apiPath, guarded, readBody } from "./guard";

// The docs write `notificationUrl`, the SDK declares both it and `notification_url`: which one
// Stream answers with is the quirk `webhookUrlField`.
const URL_FIELDS: Record<Quirks["webhookUrlField"], readonly string[]> = {
  camel: ["notificationUrl"],
  snake: ["notification_url"],
  both: ["notificationUrl", "notification_url"],
};

const render = (w: WebhookSubscription, quirks: Quirks) => ({
  ...Object.fromEntries(URL_FIELDS[quirks.webhookUrlField].map((field) => [field, w.notificationUrl])),
  modified: new Date(w.modified).toISOString(),
  secret: w.secret,
});

// Either name is accepted in a request; the URL itself is checked below.
const Subscription = z.object({ notificationUrl: z.unknown().optional(), notification_url: z.unknown().optional() });

// One subscription per account (docs/stream-behaviour.md §4). Unlike Stream, localhost and private
// addresses are accepted: locally the gateway lives there.
export function webhookRoutes(emulator: Emulator): Hono {
  const api = new Hono();

  api.put(
    "/",
    guarded(emulator, "webhook.update", async (c) => {
      const body = await readBody(c, Subscription);
      if (!body.ok) return body.response;
      const url = body.value.notificationUrl ?? body.value.notification_url;
      if (typeof url !== "string" || !/^https?:\/\//.test(url) || !URL.canParse(url)) {
        return badRequest("notificationUrl must be a URL that includes http:// or https://");
      }
      emulator.state.webhook = { notificationUrl: url, secret: randomHex(16), modified: emulator.now() };
      await emulator.save();
      return ok(render(emulator.state.webhook, emulator.quirks));
    }),
  );

  api.get(
    "/",
    guarded(emulator, "webhook.get", (c) =>
      emulator.state.webhook ? ok(render(emulator.state.webhook, emulator.quirks)) : noRoute(apiPath(c)),
    ),
  );

  api.delete(
    "/",
    guarded(emulator, "webhook.delete", async (c) => {
      if (!emulator.state.webhook) return noRoute(apiPath(c));
      emulator.state.webhook = null;
      await emulator.save();
      return ok("Deleted");
    }),
  );

  return api;
}
