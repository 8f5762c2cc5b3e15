// The UserQuota object (src/record/quota-object.ts): a day's downloads counted up to the limit,
// a new UTC day starting again at 0, and a give-back never going below 0.
import { env } from "cloudflare:test";
import { expect, test } from "vitest";
import { randomUser } from "../helpers";

const quotaOf = (user: string) => env.USER_QUOTA.get(env.USER_QUOTA.idFromName(user));

test("takes up to the limit, then refuses; a give-back frees one; the next day starts again", async () => {
  const quota = quotaOf(randomUser());
  expect([await quota.take("2026-11-30", 2), await quota.take("2026-11-30", 2), await quota.take("2026-11-30", 2)]).toEqual([1, 0, { refused: "used-up" }]);
  expect(await quota.left("2026-11-30", 2)).toBe(0);
  await quota.giveBack("2026-11-30");
  expect(await quota.left("2026-11-30", 2)).toBe(1);
  expect(await quota.take("2026-12-01", 2)).toBe(1);
  // Each day counts on its own: a give-back for yesterday changes only yesterday.
  await quota.giveBack("2026-11-30");
  expect(await quota.left("2026-12-01", 2)).toBe(1);
  expect(await quota.left("2026-11-30", 2)).toBe(2);
});

test("a request of the old day arriving after midnight counts against its own day, never resetting the new one", async () => {
  const quota = quotaOf(randomUser());
  const newDay = [await quota.take("2026-12-01", 3), await quota.take("2026-12-01", 3), await quota.take("2026-12-01", 3)];
  expect(newDay).toEqual([2, 1, 0]);
  // Late: began at 23:59:59.9 on the 30th.
  expect(await quota.take("2026-11-30", 3)).toBe(2);
  expect(await quota.take("2026-12-01", 3)).toEqual({ refused: "used-up" });
  expect(await quota.left("2026-12-01", 3)).toBe(0);
});

test("only the two newest days are kept: a day older than both grants nothing", async () => {
  const quota = quotaOf(randomUser());
  await quota.take("2026-11-29", 3);
  await quota.take("2026-11-30", 3);
  await quota.take("2026-12-01", 3);
  expect(await quota.take("2026-11-29", 3)).toEqual({ refused: "used-up" });
  expect(await quota.left("2026-11-29", 3)).toBe(0);
  expect(await quota.left("2026-11-30", 3)).toBe(2);
});

test("a give-back with nothing taken leaves the count at 0", async () => {
  const quota = quotaOf(randomUser());
  await quota.giveBack("2026-11-30");
  expect(await quota.left("2026-11-30", 3)).toBe(3);
});

test("concurrent takes never pass the limit", async () => {
  const quota = quotaOf(randomUser());
  const results = await Promise.all(Array.from({ length: 20 }, () => quota.take("2026-11-30", 7)));
  const taken = results.filter((r) => typeof r === "number");
  expect(new Set(taken)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
  expect(taken).toHaveLength(7);
});

test("a refusal while provisional takes may still be given back says so; once they are, it is used up", async () => {
  const quota = quotaOf(randomUser());
  expect(await quota.take("2026-11-30", 2, true)).toBe(1);
  expect(await quota.take("2026-11-30", 2, true)).toBe(0);
  expect(await quota.take("2026-11-30", 2)).toEqual({ refused: "held" });
  await quota.giveBack("2026-11-30");
  expect(await quota.take("2026-11-30", 2)).toBe(0);
  await quota.giveBack("2026-11-30");
  // The last provisional one was given back, and the other became a plain take: nothing is held.
  expect(await quota.take("2026-11-30", 2)).toBe(0);
  expect(await quota.take("2026-11-30", 2)).toEqual({ refused: "used-up" });
});
