// A share page's poster (GET /s/:id/poster.jpg): what the gateway asks Stream's thumbnail for, and
// what it answers when Stream has no thumbnail to give (docs/stream-behaviour.md §6).
import { afterEach, expect, test, vi } from "vitest";
import { control, seedVideo } from "../emulator/helpers";
import { appToken, createShareLink, expectProblem, gateway, randomUser } from "../helpers";

const originalFetch = globalThis.fetch;
afterEach(() => vi.restoreAllMocks());

/** A ready video with a ready MP4 and a share link to it; the link's page shows the poster. */
async function sharedVideo(): Promise<{ uid: string; secret: string }> {
  const { uid } = await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } });
  const link = await createShareLink(uid, await appToken(randomUser(), { videos: [uid] }));
  const page = await (await gateway(`/s/${link.secret}`, { headers: { accept: "text/html" } })).text();
  expect(page).toContain(`<img class="poster" src="/s/${link.secret}/poster.jpg"`);
  return { uid, secret: link.secret };
}

/**
 * The thumbnail URLs the gateway fetched, answered by the emulator or, when given, by `answer`
 * (made inside the gateway's request: a body belongs to the request that created it).
 */
function thumbnails(answer?: () => Response): URL[] {
  const asked: URL[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.pathname.endsWith("/thumbnails/thumbnail.jpg")) return originalFetch(input, init);
    asked.push(url);
    return answer?.() ?? originalFetch(input, init);
  });
  return asked;
}

test("the poster asks Stream for exactly 640×360, cropped: both sides and the fit named (Stream's defaults are 640×640, crop)", async () => {
  const { secret } = await sharedVideo();
  const asked = thumbnails();
  const poster = await gateway(`/s/${secret}/poster.jpg`);
  expect({ status: poster.status, type: poster.headers.get("content-type") }).toEqual({ status: 200, type: "image/jpeg" });
  await poster.arrayBuffer();
  expect(asked).toHaveLength(1);
  expect(Object.fromEntries(asked[0]!.searchParams)).toEqual({ width: "640", height: "360", fit: "crop" });
});

test("an errored video's thumbnail (Stream answers 424 since 2024-06-11) makes the poster 404 not-found, not a 5xx or a retry", async () => {
  const { secret } = await sharedVideo();
  thumbnails(() => new Response("the video failed to process\n", { status: 424 }));
  const problem = await expectProblem(await gateway(`/s/${secret}/poster.jpg`), 404, "not-found");
  expect(problem.detail).toBe("This video has no poster.");
});

test("a video that errored after its link was made: its poster is 404 not-found and its page still answers 200", async () => {
  const { uid, secret } = await sharedVideo();
  await control("POST", `/videos/${uid}/state`, { state: "error" });
  const poster = await gateway(`/s/${secret}/poster.jpg`);
  expect(poster.headers.get("retry-after")).toBeNull();
  await expectProblem(poster, 404, "not-found");
  expect((await gateway(`/s/${secret}`, { headers: { accept: "text/html" } })).status).toBe(200);
});
