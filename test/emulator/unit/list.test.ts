// Listing videos as Stream does (its API reference › List videos): up to 1,000 from one request,
// newest first unless `asc` asks for the oldest.
import { expect, test } from "vitest";
import type { Emulator } from "../../../emulator/src/emulator";
import { LIST_LIMIT, listVideos } from "../../../emulator/src/operations";

test("one request lists at most 1,000 videos, the newest first; asc lists the oldest first", () => {
  const videos = Object.fromEntries(Array.from({ length: LIST_LIMIT + 1 }, (_, i) => [`video-${i}`, { created: i, meta: {} }]));
  const emulator = { now: () => 0, state: { videos } } as unknown as Emulator;
  const newest = listVideos(emulator, {});
  expect(newest).toHaveLength(1000);
  expect([newest[0]?.created, newest.at(-1)?.created]).toEqual([1000, 1]);
  const oldest = listVideos(emulator, { asc: true });
  expect([oldest[0]?.created, oldest.at(-1)?.created]).toEqual([0, 999]);
});
