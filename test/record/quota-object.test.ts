// The UserQuota object (src/record/quota-object.ts): a day's downloads counted up to the limit,
// a new UTC day starting again at 0, and a give-back never going below 0.
import { env } from "cloudflare:test";
import { expect, test } from "vitest";
import { randomUser } from "../helpers";

const quotaOf = (user: string) => env.USER_QUOTA.get(env.USER_QUOTA.idFromName(user));

test("takes up to the limit, then refuses; a give-back frees one; the next day starts again", async () => {
  const quota = quotaOf(randomUser());
  expect([await quota.take("2026-11-30", 2), await quota.take("2026-11-30", 2), await quota.take("2026-11-30", 2)]).toEqual([1, 0, null]);
  expect(await quota.left("2026-11-30", 2)).toBe(0);
  await quota.giveBack("2026-11-30");
  expect(await quota.left("2026-11-30", 2)).toBe(1);
  expect(await quota.take("2026-12-01", 2)).toBe(1);
  // The count is of the newest day only: a late give-back for yesterday changes nothing.
  await quota.giveBack("2026-11-30");
  expect(await quota.left("2026-12-01", 2)).toBe(1);
});

test("a give-back with nothing taken leaves the count at 0", async () => {
  const quota = quotaOf(randomUser());
  await quota.giveBack("2026-11-30");
  expect(await quota.left("2026-11-30", 3)).toBe(3);
});

test("concurrent takes never pass the limit", async () => {
  const quota = quotaOf(randomUser());
  const results = await Promise.all(Array.from({ length: 20 }, () => quota.take("2026-11-30", 7)));
  expect(results.filter((r) => r !== null)).toHaveLength(7);
  expect(new Set(results.filter((r) => r !== null))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
});
