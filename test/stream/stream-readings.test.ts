// Readings of Stream's answers that the emulator does not (yet) give: download entries without
// `status` or `percentComplete` (both optional in Stream's API reference), a video `ready` but not
// `readyToStream`, a `live-inprogress` one (docs/stream-behaviour.md §1, §2). The emulator still
// plays Stream: its answers for one seeded video are only reshaped on their way to the gateway,
// so everything else (its downloads' progress, the files it serves) is the emulator's own.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, test, vi } from "vitest";
import { counters, seedVideo, sleep } from "../emulator/helpers";
import { appToken, callWorker, expectProblem, randomUser } from "../helpers";

type Entry = Record<string, unknown>;
type Envelope = { result: unknown } & Record<string, unknown>;

const originalFetch = globalThis.fetch;
afterEach(() => vi.restoreAllMocks());

/**
 * Reshapes the `result` of Stream's REST answers about `uid` (the rest pass untouched) and
 * records every request the gateway made to Stream's API.
 */
function reshape(uid: string, edit: (path: string, result: unknown) => unknown): { url: string; init: RequestInit | undefined }[] {
  const sent: { url: string; init: RequestInit | undefined }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const res = await originalFetch(input, init);
    if (url.host !== "api.cloudflare.com" || !url.pathname.includes(uid)) return res;
    sent.push({ url: url.href, init });
    const body = (await res.json()) as Envelope;
    const path = url.pathname.slice(url.pathname.indexOf(uid) + uid.length);
    return Response.json({ ...body, result: body.success ? edit(path, body.result) : body.result }, { status: res.status, headers: res.headers });
  });
  return sent;
}

/** Every download entry of a downloads answer (create or GET, keyed or flat) through `edit`. */
const entries = (edit: (entry: Entry) => Entry) => (path: string, result: unknown) => {
  if (!path.startsWith("/downloads")) return result;
  const answer = result as Record<string, Entry>;
  if (!("default" in answer) && !("audio" in answer)) return edit(answer);
  return Object.fromEntries(Object.entries(answer).map(([type, entry]) => [type, edit(entry)]));
};

async function download(uid: string, testEnv: Env = env): Promise<Response> {
  return callWorker(testEnv, `/v1/videos/${uid}/download`, { token: await appToken(randomUser(), { videos: [uid] }) });
}

/** 202 while Stream makes the file, then (past the poll interval) 302 to a file Stream serves. */
async function expectPreparedThenServed(uid: string, testEnv: Env = env): Promise<void> {
  const first = await download(uid, testEnv);
  expect(first.status).toBe(202);
  expect(await first.json()).toMatchObject({ status: "inprogress" });
  await sleep(2200); // past POLL_INTERVAL_SECONDS (2 in tests) and the emulator's DOWNLOAD_SECONDS
  const granted = await download(uid, testEnv);
  expect(granted.status).toBe(302);
  const file = await fetch(granted.headers.get("location") ?? "");
  expect(file.status).toBe(200);
  expect(file.headers.get("content-type")).toBe("video/mp4");
  await file.arrayBuffer();
}

describe("download entries without status or percentComplete (optional in Stream's API reference)", () => {
  test("without status: in progress below 100 %, ready at 100 %, so the file is served once made", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 1 });
    reshape(uid, entries(({ status: _, ...rest }) => rest));
    await expectPreparedThenServed(uid);
  });

  test("without percentComplete: the status decides (0 % while in progress), so the file is served once made", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 1 });
    reshape(uid, entries(({ percentComplete: _, ...rest }) => rest));
    const first = await download(uid);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: "inprogress", percentComplete: 0 });
    await sleep(2200);
    const granted = await download(uid);
    expect(granted.status).toBe(302);
    await (await fetch(granted.headers.get("location") ?? "")).arrayBuffer();
  });

  test("without either: in progress at 0 % (a 202 to poll, never a 503), and the status route says so", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
    reshape(uid, entries(({ url }) => ({ url })));
    const token = await appToken(randomUser(), { videos: [uid] });
    const first = await callWorker(env, `/v1/videos/${uid}/download`, { token });
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: "inprogress", percentComplete: 0 });
    const status = await callWorker(env, `/v1/videos/${uid}/downloads`, { token });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ default: { status: "inprogress" } });
  });

  test("through the Stream binding too: entries without status are read the same way", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 1 });
    const stream = env.EMULATED_STREAM;
    const strip = (answer: unknown) => entries(({ status: _, ...rest }) => rest)("/downloads", answer);
    // The emulator's binding, with its downloads' answers reshaped as above.
    const sparse = {
      video: (id: string) => {
        const video = stream.video(id);
        return {
          details: () => video.details(),
          downloads: {
            get: async () => strip(await video.downloads.get()),
            generate: async (type?: "default" | "audio") => strip(await video.downloads.generate(type)),
          },
        };
      },
      videos: stream.videos,
    };
    const bindingEnv = { ...env, STREAM_API_TOKEN: "", STREAM_API_BASE: "https://rest.invalid/client/v4", STREAM: sparse } as unknown as Env;
    await expectPreparedThenServed(uid, bindingEnv);
    expect((await counters(uid)).byOperation["binding.downloads.generate"]).toBe(1);
  });
});

test("creating a download sends the JSON body Stream's API reference requires: {} as application/json", async () => {
  const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 1 });
  const sent = reshape(uid, (_, result) => result);
  expect((await download(uid)).status).toBe(202);
  const creates = sent.filter(({ init }) => init?.method === "POST");
  expect(creates.map(({ url }) => new URL(url).pathname.split(uid)[1])).toEqual(["/downloads/default"]);
  expect(new Headers(creates[0]?.init?.headers).get("content-type")).toBe("application/json");
  expect(creates[0]?.init?.body).toBe("{}");
  // Reads carry no body.
  expect(sent.filter(({ init }) => init?.method !== "POST").every(({ init }) => init?.body == null)).toBe(true);
  expect((await counters(uid)).byOperation["downloads.create"]).toBe(1);
});

describe("a video is ready only when its state is ready and readyToStream is true (Stream's webhooks page)", () => {
  test.each([
    ["state ready but readyToStream false", { readyToStream: false }],
    ["state ready and readyToStream absent (the SDK leaves it out while not ready)", { readyToStream: undefined }],
    ["live-inprogress (a live recording still going), even with readyToStream true", { readyToStream: true, status: { state: "live-inprogress" } }],
  ])("%s: 409 video-not-ready and no download created", async (_, fields) => {
    const { uid } = await seedVideo({ requireSignedURLs: true });
    reshape(uid, (path, result) => (path === "" ? { ...(result as Entry), ...fields } : result));
    await expectProblem(await download(uid), 409, "video-not-ready");
    expect((await counters(uid)).byOperation["downloads.create"] ?? 0).toBe(0);
  });

  test("once readyToStream turns true, the waiting request goes on to prepare the download", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: true, downloadSeconds: 1 });
    let streamable = false;
    reshape(uid, (path, result) => (path === "" ? { ...(result as Entry), readyToStream: streamable } : result));
    await expectProblem(await download(uid), 409, "video-not-ready");
    streamable = true;
    await sleep(2200); // the refusal is asked again after the poll interval
    expect((await download(uid)).status).toBe(202);
    expect((await counters(uid)).byOperation["downloads.create"]).toBe(1);
  });
});
