// GET /v1/videos/:uid/downloads, the progress UI's route: it reports what Stream has, asks Stream
// sparingly, never creates a download, and sits behind the same limits as the download path.
import { expect, test } from "vitest";
import { counters, seedVideo, sleep } from "../emulator/helpers";
import { admin, appToken, gateway, randomUser } from "../helpers";

async function status(uid: string, token: string) {
  const res = await gateway(`/v1/videos/${uid}/downloads`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as { default: { status: string }; audio: { status: string } };
}

test("downloads the gateway never saw (made at Stream directly, or forgotten by an admin refresh) are reported as they are at Stream", async () => {
  const { uid } = await seedVideo({ downloads: { default: "ready", audio: "ready" } });
  const token = await appToken(randomUser(), { videos: [uid] });
  expect(await status(uid, token)).toMatchObject({ default: { status: "ready" }, audio: { status: "ready" } });

  expect((await admin("POST", `/v1/admin/videos/${uid}/refresh`)).status).toBe(200);
  expect(await status(uid, token)).toMatchObject({ default: { status: "ready" }, audio: { status: "ready" } });
});

test("a download nobody created is 'none'; repeated status polls do not ask Stream again, and nothing is created", async () => {
  const { uid } = await seedVideo({ downloads: { default: "ready" } });
  const token = await appToken(randomUser(), { videos: [uid] });
  expect(await status(uid, token)).toMatchObject({ default: { status: "ready" }, audio: { status: "none" } });
  const after = await counters(uid);
  for (let i = 0; i < 5; i++) expect((await status(uid, token)).audio.status).toBe("none");
  expect((await counters(uid)).api).toBe(after.api);
  expect(after.byOperation["downloads.create"]).toBeUndefined();
});

test("a download started through the gateway shows up at once, even where 'none' was remembered", async () => {
  const { uid } = await seedVideo({ downloadSeconds: 60 });
  const token = await appToken(randomUser(), { videos: [uid] });
  expect((await status(uid, token)).default.status).toBe("none");
  expect((await gateway(`/v1/videos/${uid}/download`, { token })).status).toBe(202);
  expect((await status(uid, token)).default.status).toBe("inprogress");
});

test("the status route counts against the per-user rate limit", async () => {
  const { uid } = await seedVideo({ downloads: { default: "ready", audio: "ready" } });
  const token = await appToken(randomUser(), { videos: [uid] });
  // Miniflare's limiter windows are aligned to the wall-clock minute: stay clear of a rollover.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 57_000) await sleep(60_000 - intoMinute + 100);
  const answers: number[] = [];
  for (let i = 0; i < 61; i++) {
    const res = await gateway(`/v1/videos/${uid}/downloads`, { token });
    answers.push(res.status);
    await res.arrayBuffer();
  }
  expect(answers.filter((s) => s === 200).length).toBeLessThanOrEqual(60);
  expect(answers).toContain(429);
});
