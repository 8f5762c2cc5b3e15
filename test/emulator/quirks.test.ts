// Each of the emulator's undocumented choices both ways (emulator/README.md › Assumptions): what
// the emulator answers by default, and what it answers with the quirk switched. The quirks are
// account-wide, so every test goes back to the defaults.
import { afterEach, describe, expect, test } from "vitest";
import { DELIVERY_BASE, api, control, seedVideo, sleep } from "./helpers";

afterEach(async () => {
  await control("DELETE", "/quirks");
});

const quirks = (changes: Record<string, unknown>) => control("PUT", "/quirks", changes);
const url = (uid: string, file = "default.mp4") => `${DELIVERY_BASE}/${uid}/downloads/${file}`;
const post = (uid: string, path: string, body?: string) =>
  api(`/${uid}${path}`, { method: "POST", ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body }) });

describe("createRequiresBody", () => {
  test("false (the default): a create without a body is accepted, like one with {}", async () => {
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    expect((await post(uid, "/downloads")).status).toBe(200);
    expect((await post(uid, "/downloads/audio", "{}")).status).toBe(200);
  });

  test("true: a create without a body answers 400 10005 and creates nothing; {} is accepted", async () => {
    await quirks({ createRequiresBody: true });
    const { uid } = await seedVideo({ downloadSeconds: 60 });
    for (const path of ["/downloads", "/downloads/audio"]) {
      const refused = await post(uid, path);
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 400,
        body: { result: null, success: false, errors: [{ code: 10005, message: "Bad Request: a request body is required" }], messages: [] },
      });
    }
    expect((await api(`/${uid}/downloads`)).body.result).toEqual({});
    expect((await post(uid, "/downloads", "{}")).status).toBe(200);
  });

  test("either way, a body that is not a JSON object is refused: malformed 400 6007, another value 400 10005", async () => {
    const { uid } = await seedVideo();
    for (const setting of [false, true]) {
      await quirks({ createRequiresBody: setting });
      expect((await post(uid, "/downloads", "{not json")).body.errors).toEqual([{ code: 6007, message: "Malformed JSON in request body" }]);
      const array = await post(uid, "/downloads", "[]");
      expect(array.status).toBe(400);
      expect(array.body.errors[0]?.code).toBe(10005);
    }
  });
});

describe("downloadFields", () => {
  test("documented (the default): every entry has status, url and percentComplete", async () => {
    const { uid } = await seedVideo({ downloads: { audio: "ready" }, downloadSeconds: 60 });
    expect((await post(uid, "/downloads")).body.result).toEqual({
      default: { status: "inprogress", url: url(uid), percentComplete: 0 },
      audio: { status: "ready", url: url(uid, "audio.m4a"), percentComplete: 100 },
    });
  });

  test("sparse: no percentComplete anywhere and no status while in progress, in GET, the keyed create and the flat create", async () => {
    await quirks({ downloadFields: "sparse" });
    const { uid } = await seedVideo({ downloads: { audio: "ready" }, downloadSeconds: 60 });
    const expected = { default: { url: url(uid) }, audio: { status: "ready", url: url(uid, "audio.m4a") } };
    expect((await post(uid, "/downloads")).body.result).toEqual(expected);
    expect((await api(`/${uid}/downloads`)).body.result).toEqual(expected);
    await quirks({ createResponse: "flat" });
    expect((await post(uid, "/downloads/default")).body.result).toEqual({ url: url(uid) });
  });

  test("sparse: a failed download still says error", async () => {
    await quirks({ downloadFields: "sparse" });
    const { uid } = await seedVideo({ downloadSeconds: 0, downloadOutcome: { default: "error" } });
    await post(uid, "/downloads");
    expect((await api(`/${uid}/downloads`)).body.result).toEqual({ default: { status: "error", url: url(uid) } });
  });
});

describe("webhookUrlField", () => {
  const hook = "https://gateway.test/webhooks/stream?hook=quirks";
  afterEach(async () => {
    await api("/webhook", { method: "DELETE" });
  });

  test.each([
    ["camel (the default)", undefined, { notificationUrl: hook }],
    ["snake", "snake", { notification_url: hook }],
    ["both", "both", { notificationUrl: hook, notification_url: hook }],
  ])("%s: PUT and GET name the URL by the quirk's fields", async (_name, setting, fields) => {
    if (setting) await quirks({ webhookUrlField: setting });
    const put = await api<Record<string, unknown>>("/webhook", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ notificationUrl: hook }),
    });
    expect(put.status).toBe(200);
    expect(put.body.result).toEqual({ ...fields, modified: expect.any(String), secret: expect.any(String) });
    expect((await api("/webhook")).body.result).toEqual(put.body.result);
  });
});

describe("readyBeforeStreamableSeconds", () => {
  test("0 (the default): a video that has just become ready is ready to stream and its downloads can be made and fetched", async () => {
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600, requireSignedURLs: false, downloadSeconds: 0 });
    const readyAt = Date.now();
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    const video = (await api<{ readyToStream: boolean; readyToStreamAt: string }>(`/${uid}`)).body.result;
    expect(video.readyToStream).toBe(true);
    expect(Math.abs(Date.parse(video.readyToStreamAt) - readyAt)).toBeLessThan(1000);
    expect((await post(uid, "/downloads")).status).toBe(200);
    const served = await fetch(url(uid));
    expect(served.status).toBe(200);
    await served.arrayBuffer();
  });

  test("1: for its first second a ready video says readyToStream false, refuses new downloads and the delivery host refuses existing ones; then it streams", async () => {
    await quirks({ readyBeforeStreamableSeconds: 1 });
    const { uid } = await seedVideo({ state: "inprogress", processingSeconds: 600, requireSignedURLs: false, downloads: { audio: "ready" } });
    await control("POST", `/videos/${uid}/state`, { state: "ready" });
    const readyAt = Date.now();

    expect((await api(`/${uid}`)).body.result).toMatchObject({ status: { state: "ready" }, readyToStream: false, readyToStreamAt: null });
    const create = await post(uid, "/downloads");
    expect({ status: create.status, errors: create.body.errors }).toEqual({
      status: 400,
      errors: [{ code: 10005, message: "Bad Request: the video is not ready to stream yet" }],
    });
    const refused = await fetch(url(uid, "audio.m4a"));
    expect({ status: refused.status, body: await refused.text() }).toEqual({ status: 404, body: "the video is not ready to stream\n" });

    await sleep(Math.max(0, readyAt + 1100 - Date.now()));
    const video = (await api<{ readyToStream: boolean; readyToStreamAt: string }>(`/${uid}`)).body.result;
    expect(video.readyToStream).toBe(true);
    expect(Math.abs(Date.parse(video.readyToStreamAt) - (readyAt + 1000))).toBeLessThan(1000);
    expect((await post(uid, "/downloads")).status).toBe(200);
    const served = await fetch(url(uid, "audio.m4a"));
    expect(served.status).toBe(200);
    await served.arrayBuffer();
  });

  test("the refusal at the delivery host follows deliveryNotReady (424)", async () => {
    await quirks({ readyBeforeStreamableSeconds: 60, deliveryNotReady: 424 });
    const { uid } = await seedVideo({ requireSignedURLs: false, downloads: { default: "ready" } });
    const refused = await fetch(url(uid));
    expect(refused.status).toBe(424);
    await refused.arrayBuffer();
  });
});

describe("allowedOriginsOnDownloads", () => {
  const ORIGINS = ["app.example", "*.example.org", "localhost:5173"];

  async function restricted(): Promise<string> {
    const { uid } = await seedVideo({ requireSignedURLs: false, downloads: { default: "ready" } });
    await control("PATCH", `/videos/${uid}`, { allowedOrigins: ORIGINS });
    return uid;
  }

  async function status(uid: string, headers: Record<string, string> = {}): Promise<number> {
    const res = await fetch(url(uid), { headers });
    await res.arrayBuffer();
    return res.status;
  }

  test("allowedOrigins is set through the control API and the video edit, and shown in the video", async () => {
    const uid = await restricted();
    expect((await api(`/${uid}`)).body.result).toMatchObject({ allowedOrigins: ORIGINS });
    const edited = await api(`/${uid}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ allowedOrigins: ["other.example"] }) });
    expect(edited.body.result).toMatchObject({ allowedOrigins: ["other.example"] });
    expect(await control("GET", `/videos/${uid}`)).toMatchObject({ allowedOrigins: ["other.example"] });
  });

  test("false (the default): downloads are served whatever the origin", async () => {
    const uid = await restricted();
    expect(await status(uid)).toBe(200);
    expect(await status(uid, { origin: "https://elsewhere.example" })).toBe(200);
  });

  test("true: a download is served only to a listed origin (Origin, else Referer; *. for subdomains; host with its port)", async () => {
    await quirks({ allowedOriginsOnDownloads: true });
    const uid = await restricted();
    const cases: [Record<string, string>, number][] = [
      [{}, 403],
      [{ origin: "https://app.example" }, 200],
      [{ referer: "https://app.example/watch?v=1" }, 200],
      [{ origin: "https://cdn.example.org" }, 200],
      [{ origin: "https://example.org" }, 403],
      [{ origin: "http://localhost:5173" }, 200],
      [{ origin: "http://localhost:8080" }, 403],
      [{ origin: "https://elsewhere.example", referer: "https://app.example/" }, 403],
      [{ origin: "null" }, 403],
    ];
    const seen = [];
    for (const [headers] of cases) seen.push([headers, await status(uid, headers)]);
    expect(seen).toEqual(cases);
    const refused = await fetch(url(uid), { headers: { origin: "https://elsewhere.example" } });
    expect(await refused.text()).toBe("the request's origin is not one of the video's allowedOrigins\n");
  });

  test("true: a video without allowedOrigins is served to every origin", async () => {
    await quirks({ allowedOriginsOnDownloads: true });
    const { uid } = await seedVideo({ requireSignedURLs: false, downloads: { default: "ready" } });
    expect(await status(uid)).toBe(200);
    expect(await status(uid, { origin: "https://elsewhere.example" })).toBe(200);
  });
});

test("a quirk with a value outside its set is refused by the control API and changes nothing", async () => {
  for (const bad of [{ downloadFields: "minimal" }, { webhookUrlField: "kebab" }, { readyBeforeStreamableSeconds: -1 }, { createRequiresBody: "yes" }]) {
    const res = await fetch(`${DELIVERY_BASE}/__emulator/quirks`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(bad) });
    expect(res.status, JSON.stringify(bad)).toBe(400);
    await res.arrayBuffer();
  }
  expect(await control("GET", "/quirks")).toMatchObject({
    createRequiresBody: false,
    downloadFields: "documented",
    webhookUrlField: "camel",
    readyBeforeStreamableSeconds: 0,
    allowedOriginsOnDownloads: false,
    downloadCompletionEvents: true,
  });
});
