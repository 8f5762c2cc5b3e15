// The emulator's Workers binding entry point (emulator/src/binding.ts), reached as a Worker
// reaches Stream's binding: through a service binding, with promise pipelining. It shares the
// account with the REST API, so its downloads progress, faults and quirks are the REST ones.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, test } from "vitest";
import { DELIVERY_BASE, api, control, counters, injectFault, removeFaults, seedVideo, sleep, unknownUid } from "./helpers";

const STREAM = env.EMULATED_STREAM;
const SIGNED_READY = "c0ffee00000000000000000000000001";
const url = (uid: string, file: string) => `${DELIVERY_BASE}/${uid}/downloads/${file}`;

/** What a caller can read off an error thrown across the binding. */
async function caught(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const e = error as Error & { code?: unknown; statusCode?: unknown };
    return { name: e.name, message: e.message, code: e.code, statusCode: e.statusCode };
  }
  throw new Error("the call did not throw");
}

/** Calls `read` until `done` holds or 3 s pass; returns every value read. */
async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T[]> {
  const seen: T[] = [];
  const stop = Date.now() + 3000;
  for (;;) {
    const value = await read();
    seen.push(value);
    if (done(value) || Date.now() > stop) return seen;
    await sleep(100);
  }
}

afterEach(removeFaults);

describe("videos", () => {
  test("details of the seeded ready video carry id, readyToStream, requireSignedURLs and flat playback URLs", async () => {
    const video = await STREAM.video(SIGNED_READY).details();
    expect(video).toMatchObject({
      id: SIGNED_READY,
      readyToStream: true,
      requireSignedURLs: true,
      status: { state: "ready", pctComplete: "100.000000", errorReasonCode: "", errorReasonText: "" },
      meta: { name: "Launch keynote" },
      hlsPlaybackUrl: `${DELIVERY_BASE}/${SIGNED_READY}/manifest/video.m3u8`,
      dashPlaybackUrl: `${DELIVERY_BASE}/${SIGNED_READY}/manifest/video.mpd`,
      liveInputId: null,
      clippedFromId: null,
    });
    // The REST names are not the binding's.
    expect(video).not.toHaveProperty("uid");
    expect(video).not.toHaveProperty("playback");
  });

  test("a video handle exposes its id without calling the account", async () => {
    const id = unknownUid();
    const before = await counters(id);
    expect(await STREAM.video(id).id).toBe(id);
    expect(await counters(id)).toEqual(before);
  });

  test("an unknown id throws NotFoundError 404 from details and every downloads call", async () => {
    const id = unknownUid();
    const notFound = { name: "NotFoundError", message: `Video not found: ${id}`, code: 10003, statusCode: 404 };
    expect(await caught(STREAM.video(id).details())).toEqual(notFound);
    expect(await caught(STREAM.video(id).downloads.get())).toEqual(notFound);
    expect(await caught(STREAM.video(id).downloads.generate())).toEqual(notFound);
    expect(await caught(STREAM.video(id).downloads.delete())).toEqual(notFound);
  });

  test("errors reach the caller as plain Errors: name, message, code and statusCode survive, the class does not", async () => {
    let error: unknown;
    try {
      await STREAM.video(unknownUid()).details();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(Object.getOwnPropertyNames(error)).toEqual(expect.arrayContaining(["name", "message", "code", "statusCode"]));
  });

  test("a video that is still processing is not ready to stream and reports its state", async () => {
    const { uid } = await seedVideo({ state: "queued", processingSeconds: 600 });
    expect(await STREAM.video(uid).details()).toMatchObject({ id: uid, readyToStream: false, status: { state: "queued" } });
  });

  test("videos.list is newest first, honours limit and after, and names videos by id", async () => {
    const { uid } = await seedVideo();
    const all = await STREAM.videos.list();
    expect(all[0]?.id).toBe(uid);
    expect(all.map((v) => v.id)).toEqual(expect.arrayContaining([SIGNED_READY, uid]));
    expect(all.every((v) => !("uid" in v))).toBe(true);
    expect((await STREAM.videos.list({ limit: 1 })).map((v) => v.id)).toEqual([uid]);
    const created = all[0]!.created;
    expect((await STREAM.videos.list({ after: created })).map((v) => v.id)).toEqual([uid]);
    expect((await STREAM.videos.list({ after: created, afterComp: "gt" })).map((v) => v.id)).toEqual([]);
  });

  test("videos.list with invalid parameters throws BadRequestError 400", async () => {
    expect(await caught(STREAM.videos.list({ limit: -1 }))).toMatchObject({ name: "BadRequestError", statusCode: 400, code: 10005 });
    expect(await caught(STREAM.videos.list({ before: "yesterday" }))).toMatchObject({ name: "BadRequestError", statusCode: 400 });
  });
});

describe("downloads", () => {
  test("get on a video without downloads answers an empty object", async () => {
    const { uid } = await seedVideo();
    expect(await STREAM.video(uid).downloads.get()).toEqual({});
  });

  test("generate answers inprogress, and the download is ready after DOWNLOAD_SECONDS (1 s in tests)", async () => {
    const { uid } = await seedVideo();
    const started = await STREAM.video(uid).downloads.generate();
    expect(Object.keys(started)).toEqual(["default"]);
    expect(started.default).toMatchObject({ status: "inprogress", url: url(uid, "default.mp4") });
    expect(started.default!.percentComplete).toBeLessThan(100);
    const seen = await poll(() => STREAM.video(uid).downloads.get(), (d) => d.default?.status !== "inprogress");
    expect(seen.at(-1)).toEqual({ default: { status: "ready", url: url(uid, "default.mp4"), percentComplete: 100 } });
  });

  test("generate('audio') creates only the audio download, which the REST API sees too", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    expect(await STREAM.video(uid).downloads.generate("audio")).toEqual({
      audio: { status: "inprogress", url: url(uid, "audio.m4a"), percentComplete: 0 },
    });
    const rest = await api<Record<string, unknown>>(`/${uid}/downloads`);
    expect(Object.keys(rest.body.result)).toEqual(["audio"]);
  });

  test("generate is idempotent on a ready download", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    const ready = { default: { status: "ready", url: url(uid, "default.mp4"), percentComplete: 100 } };
    expect(await STREAM.video(uid).downloads.generate("default")).toEqual(ready);
    expect(await STREAM.video(uid).downloads.get()).toEqual(ready);
  });

  test("generate on a video that is not ready throws a StreamError and creates nothing", async () => {
    const refused = {
      name: "StreamBindingError",
      message: "the video is not ready to stream yet",
      code: 10005,
      statusCode: 400,
    };
    const queued = await seedVideo({ state: "queued", processingSeconds: 600 });
    expect(await caught(STREAM.video(queued.uid).downloads.generate())).toEqual(refused);
    expect(await caught(STREAM.video(queued.uid).downloads.generate("audio"))).toEqual(refused);
    expect(await STREAM.video(queued.uid).downloads.get()).toEqual({});
    const errored = await seedVideo({ state: "error" });
    expect(await caught(STREAM.video(errored.uid).downloads.generate())).toEqual(refused);
  });

  test("the not-ready refusal carries the status and code of the notReadyCreate quirk", async () => {
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600 });
    await control("PUT", "/quirks", { notReadyCreate: { status: 409, code: 10099 } });
    try {
      expect(await caught(STREAM.video(uid).downloads.generate())).toMatchObject({ statusCode: 409, code: 10099 });
    } finally {
      await control("DELETE", "/quirks");
    }
  });

  test("generate on a video too long to download throws a StreamError", async () => {
    const { uid } = await seedVideo({ refusesDownloads: "default" });
    expect(await caught(STREAM.video(uid).downloads.generate())).toEqual({
      name: "StreamBindingError",
      message: "the video duration is too long to generate a download",
      code: 10031,
      statusCode: 400,
    });
    expect(await STREAM.video(uid).downloads.generate("audio")).toHaveProperty("audio");
  });

  test("a download type other than default and audio throws BadRequestError 400", async () => {
    const { uid } = await seedVideo();
    const hd = "hd" as StreamDownloadType;
    const badType = { name: "BadRequestError", message: "invalid download type: hd", code: 10005, statusCode: 400 };
    expect(await caught(STREAM.video(uid).downloads.generate(hd))).toEqual(badType);
    expect(await caught(STREAM.video(uid).downloads.delete(hd))).toEqual(badType);
  });

  test("delete removes one type; deleting one that does not exist throws NotFoundError", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready", audio: "ready" } });
    await STREAM.video(uid).downloads.delete("audio");
    expect(Object.keys(await STREAM.video(uid).downloads.get())).toEqual(["default"]);
    expect(await caught(STREAM.video(uid).downloads.delete("audio"))).toEqual({
      name: "NotFoundError",
      message: `Download not found: ${uid}/audio`,
      code: 10003,
      statusCode: 404,
    });
  });
});

describe("counters", () => {
  test("binding calls are counted as binding.* and make no REST call", async () => {
    const { uid } = await seedVideo();
    const listsBefore = (await counters()).byOperation["binding.videos.list"] ?? 0;
    await STREAM.video(uid).details();
    await STREAM.video(uid).downloads.get();
    await STREAM.video(uid).downloads.generate();
    await STREAM.video(uid).downloads.generate("audio");
    await STREAM.videos.list();
    expect(await counters(uid)).toEqual({
      api: 0,
      delivery: 0,
      byOperation: { "binding.details": 1, "binding.downloads.get": 1, "binding.downloads.generate": 2 },
    });
    expect((await counters()).byOperation["binding.videos.list"]).toBe(listsBefore + 1);
  });
});

describe("faults", () => {
  test("a 5xx fault throws InternalError with the fault's status, once", async () => {
    const { uid } = await seedVideo();
    await injectFault({ operation: "binding.downloads.generate", video: uid, status: 503, times: 1 });
    expect(await caught(STREAM.video(uid).downloads.generate())).toEqual({
      name: "InternalError",
      message: "Injected fault",
      code: 10002,
      statusCode: 503,
    });
    expect(await STREAM.video(uid).downloads.generate()).toHaveProperty("default.status", "inprogress");
  });

  test("a 429 fault throws RateLimitedError", async () => {
    const { uid } = await seedVideo();
    await injectFault({ operation: "binding.details", video: uid, status: 429, times: 1 });
    expect(await caught(STREAM.video(uid).details())).toEqual({
      name: "RateLimitedError",
      message: "Please wait and consider throttling your request speed",
      code: 971,
      statusCode: 429,
    });
  });

  test("a fault injected for a REST operation strikes the binding call that stands for it", async () => {
    const { uid } = await seedVideo();
    await injectFault({ operation: "downloads.get", video: uid, status: 500, times: 1 });
    expect(await caught(STREAM.video(uid).downloads.get())).toMatchObject({ name: "InternalError", statusCode: 500 });
    expect(await STREAM.video(uid).downloads.get()).toEqual({});
    await injectFault({ operation: "videos.list", status: 429, times: 1 });
    expect(await caught(STREAM.videos.list())).toMatchObject({ name: "RateLimitedError", statusCode: 429 });
  });

  test("a fault injected for a binding operation leaves the REST API alone", async () => {
    const { uid } = await seedVideo();
    await injectFault({ operation: "binding.downloads.get", video: uid, status: 500 });
    expect((await api(`/${uid}/downloads`)).status).toBe(200);
    expect(await caught(STREAM.video(uid).downloads.get())).toMatchObject({ name: "InternalError" });
  });
});

describe("quirks", () => {
  test("videoFields: sparse nulls requireSignedURLs of an unprotected video and keeps the fields the binding's types require", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: false, state: "queued", processingSeconds: 600 });
    await control("PUT", "/quirks", { videoFields: "sparse" });
    try {
      const video = await STREAM.video(uid).details();
      expect(video).toMatchObject({ requireSignedURLs: null, readyToStream: false, meta: { name: "test video" } });
      expect(video.status.errorReasonCode).toBe("");
    } finally {
      await control("DELETE", "/quirks");
    }
  });
});
