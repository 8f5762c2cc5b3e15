// The emulator-only control API under /__emulator: seed and steer videos, inject faults, tune
// the rate limiter, read counters, webhook deliveries and published events, reset. Real Stream
// has none of it.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { Emulator } from "../emulator";
import { FAULT_OPERATIONS } from "../instruments";
import { renderDownloads, renderVideo } from "../render";
import { changeVideoState, editVideo } from "../operations";
import { DOWNLOAD_TYPES, VIDEO_STATES, advanceVideo, downloadSettlesAt, type DownloadType } from "../store";
import { DEFAULT_QUIRKS, Quirks } from "../quirks";
import { newVideo } from "../videos";

const Uid = z.string().regex(/^[0-9a-f]{32}$/, "must be 32 lowercase hex characters");
const State = z.enum(VIDEO_STATES);
const Outcome = z.enum(["ready", "error"]);
const PerType = <T extends z.ZodType>(schema: T) =>
  z.object({ default: schema.optional(), audio: schema.optional() }).strict();
const Operation = z.enum(FAULT_OPERATIONS);

const NewVideoBody = z
  .object({
    uid: Uid.optional(),
    name: z.string().max(1024).optional(),
    requireSignedURLs: z.boolean().optional(),
    allowedOrigins: z.array(z.string()).optional(),
    state: State.optional(),
    processingSeconds: z.number().min(0).optional(),
    outcome: Outcome.optional(),
    errorReasonCode: z.string().optional(),
    downloadSeconds: z.number().min(0).optional(),
    downloadOutcome: PerType(Outcome).optional(),
    downloads: PerType(z.enum(["ready", "inprogress"])).optional(),
    refusesDownloads: z.union([z.boolean(), z.enum(DOWNLOAD_TYPES)]).optional(),
  })
  .strict();

const VideoPatch = z
  .object({
    downloadSeconds: z.number().min(0).optional(),
    downloadOutcome: PerType(Outcome).optional(),
    requireSignedURLs: z.boolean().optional(),
    allowedOrigins: z.array(z.string()).optional(),
  })
  .strict();

const FaultBody = z
  .object({
    operation: Operation.default("*"),
    video: Uid.optional(),
    status: z.number().int().min(400).max(599).optional(),
    code: z.number().int().optional(),
    message: z.string().optional(),
    retryAfter: z.number().int().min(0).optional(),
    latencyMs: z.number().int().min(0).max(120_000).default(0),
    times: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((f) => f.status !== undefined || f.latencyMs > 0, "a fault needs a status, a latency or both");

const RateLimitBody = z
  .object({
    limit: z.number().int().min(1),
    windowSeconds: z.number().int().min(1),
    lockoutSeconds: z.number().int().min(0),
  })
  .strict();

async function parse<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T> | Response> {
  let value: unknown = {};
  const text = await c.req.text();
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      return c.json({ error: "body is not JSON" }, 400);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    return c.json({ error: result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") }, 400);
  }
  return result.data;
}

export function controlRoutes(emulator: Emulator): Hono {
  const control = new Hono();
  const view = (uid: string) => {
    const now = emulator.now();
    const video = emulator.video(uid)!;
    return { ...renderVideo(video, emulator.settings, now, emulator.quirks), downloads: renderDownloads(video, emulator.settings, now) };
  };
  const missing = (c: Context) => c.json({ error: "no such video" }, 404);

  control.post("/reset", async (c) => {
    await emulator.reset();
    return c.json({ ok: true, videos: Object.keys(emulator.state.videos) });
  });

  control.post("/videos", async (c) => {
    const body = await parse(c, NewVideoBody);
    if (body instanceof Response) return body;
    if (body.uid && emulator.video(body.uid)) return c.json({ error: "a video with this uid exists" }, 409);
    const { processingSeconds, downloadSeconds, ...rest } = body;
    const video = newVideo(
      {
        ...rest,
        processingMs: processingSeconds === undefined ? emulator.settings.processingMs : processingSeconds * 1000,
        downloadMs: downloadSeconds === undefined ? emulator.settings.downloadMs : downloadSeconds * 1000,
      },
      emulator.now(),
    );
    emulator.state.videos[video.uid] = video;
    await emulator.save();
    return c.json(view(video.uid), 201);
  });

  control.get("/videos/:uid", (c) => (emulator.video(c.req.param("uid")) ? c.json(view(c.req.param("uid"))) : missing(c)));

  control.patch("/videos/:uid", async (c) => {
    const video = emulator.video(c.req.param("uid"));
    if (!video) return missing(c);
    const body = await parse(c, VideoPatch);
    if (body instanceof Response) return body;
    const { downloadSeconds, downloadOutcome, ...edit } = body;
    if (downloadSeconds !== undefined) video.downloadMs = downloadSeconds * 1000;
    if (downloadOutcome) video.downloadOutcome = { ...video.downloadOutcome, ...downloadOutcome };
    if (Object.keys(edit).length > 0) await editVideo(emulator, video, edit);
    else await emulator.save();
    return c.json(view(video.uid));
  });

  control.delete("/videos/:uid", async (c) => {
    if (!emulator.video(c.req.param("uid"))) return missing(c);
    delete emulator.state.videos[c.req.param("uid")];
    await emulator.save();
    return c.body(null, 204);
  });

  control.post("/videos/:uid/state", async (c) => {
    const video = emulator.video(c.req.param("uid"));
    if (!video) return missing(c);
    const body = await parse(c, z.object({ state: State }).strict());
    if (body instanceof Response) return body;
    await changeVideoState(emulator, video, body.state);
    return c.json(view(video.uid));
  });

  control.post("/videos/:uid/advance", async (c) => {
    const video = emulator.video(c.req.param("uid"));
    if (!video) return missing(c);
    advanceVideo(video, emulator.now());
    await emulator.save();
    return c.json(view(video.uid));
  });

  control.post("/videos/:uid/downloads/:type/finish", async (c) => {
    const video = emulator.video(c.req.param("uid"));
    const type = c.req.param("type") as DownloadType;
    if (!video) return missing(c);
    const download = DOWNLOAD_TYPES.includes(type) ? video.downloads[type] : undefined;
    if (!download) return c.json({ error: "no such download" }, 404);
    const now = emulator.now();
    download.createdAt = Math.min(download.createdAt, now - 1);
    download.endsAt = now;
    // Its event, if one is still owed, is owed now.
    if (download.eventAt !== undefined) download.eventAt = downloadSettlesAt(download);
    await emulator.save();
    return c.json(view(video.uid));
  });

  control.get("/faults", (c) => c.json(emulator.faults.all()));
  control.post("/faults", async (c) => {
    const body = await parse(c, FaultBody);
    if (body instanceof Response) return body;
    const fault = emulator.faults.add({
      operation: body.operation,
      video: body.video ?? null,
      status: body.status ?? null,
      code: body.code ?? null,
      message: body.message ?? null,
      retryAfter: body.retryAfter ?? null,
      latencyMs: body.latencyMs,
      remaining: body.times ?? null,
    });
    return c.json(fault, 201);
  });
  control.delete("/faults", (c) => {
    emulator.faults.clear();
    return c.body(null, 204);
  });
  control.delete("/faults/:id", (c) =>
    emulator.faults.remove(Number(c.req.param("id"))) ? c.body(null, 204) : c.json({ error: "no such fault" }, 404),
  );

  control.get("/rate-limit", (c) => c.json(emulator.rateLimit.settings));
  control.put("/rate-limit", async (c) => {
    const body = await parse(c, RateLimitBody);
    if (body instanceof Response) return body;
    emulator.rateLimit.reset(body);
    return c.json(emulator.rateLimit.settings);
  });

  control.get("/counters", (c) => c.json(emulator.counters.snapshot(c.req.query("video"))));
  control.delete("/counters", (c) => {
    emulator.counters.clear();
    return c.body(null, 204);
  });

  control.get("/webhook-deliveries", (c) => c.json(emulator.webhookLog.entries()));

  // The queue, whether the STREAM_EVENTS binding lets anything out, and the last messages sent.
  control.get("/events", (c) =>
    c.json({ queue: { ...emulator.settings.eventsQueue, bound: emulator.publishes }, published: emulator.eventLog.entries() }),
  );

  // Subscribes with a chosen secret, so that a gateway whose STREAM_WEBHOOK_SECRET is fixed in
  // its config can receive the emulator's webhooks (real Stream picks the secret itself).
  control.put("/webhook", async (c) => {
    const body = await parse(c, z.object({ notificationUrl: z.url(), secret: z.string().min(1).max(256) }).strict());
    if (body instanceof Response) return body;
    emulator.state.webhook = { ...body, modified: emulator.now() };
    await emulator.save();
    return c.json(body);
  });

  // Stream's undocumented choices (quirks.ts): read, change some, or go back to the defaults.
  control.get("/quirks", (c) => c.json(emulator.quirks));
  control.put("/quirks", async (c) => {
    const body = await parse(c, Quirks.partial());
    if (body instanceof Response) return body;
    return c.json(emulator.changeQuirks(body));
  });
  control.delete("/quirks", (c) => c.json(emulator.changeQuirks(DEFAULT_QUIRKS)));

  // A stand-in for an app's identity provider, so that gateways configured with AUTH_JWKS_URL
  // can be tested offline: PUT a public JWKS, then point AUTH_JWKS_URL at GET /__emulator/jwks.
  // Saved with the account, so it outlives the Durable Object's eviction; reset clears it.
  control.put("/jwks", async (c) => {
    const body = await parse(c, z.object({ keys: z.array(z.record(z.string(), z.unknown())) }));
    if (body instanceof Response) return body;
    await emulator.setJwks(body);
    return c.json(body);
  });
  control.get("/jwks", (c) => {
    emulator.countJwksFetch();
    return c.json(emulator.jwks);
  });
  control.get("/jwks/fetches", (c) => c.json({ fetches: emulator.jwksFetches }));

  return control;
}
