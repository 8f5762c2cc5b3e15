// Step 5 for a link (src/share-links/record.ts) with a part failing where a test through the
// gateway cannot make it fail: the answer stays the one the request earned.
import { expect, test } from "vitest";
import { retryLater } from "../../src/problems";
import type { Recorder } from "../../src/record/grant";
import { recordLinkGrant } from "../../src/share-links/record";
import type { ShareLinkStore } from "../../src/share-links/link-store";
import type { ShareLink } from "../../src/share-links/store";

test("with the creator's quota spent and the link's object unable to say whether this network holds a grant, the answer is the quota's 429", async () => {
  const spent = retryLater("quota-exceeded", "The link's creator has no downloads left today.", 3600);
  const asked: string[] = [];
  const links = {
    handedBack: async () => Promise.reject(retryLater("upstream-unavailable", "The link cannot be checked now.", 1)),
    redeem: async () => void asked.push("redeem"),
  } as unknown as ShareLinkStore;
  const recorder = {
    links,
    quota: { take: async () => Promise.reject(spent), giveBack: async () => void asked.push("giveBack") },
    audit: { record: async () => void asked.push("audit") },
    waitUntil: () => {},
  } as unknown as Recorder & { links: ShareLinkStore };
  const link = { id: "link-1", creator: "alice" } as ShareLink;
  const input = { now: Date.now(), network: "198.51.100.0/24", grantsUntil: Date.now() + 60_000, event: { id: "evt-1" } } as unknown as Parameters<typeof recordLinkGrant>[2];

  await expect(recordLinkGrant(recorder, link, input)).rejects.toBe(spent);
  expect(asked).toEqual([]);
});
