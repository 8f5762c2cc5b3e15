// A share-link grant's running response stops at the first checkpoint after its link stops being
// live, and gives back what it reserved and did not send (src/deliver/metered.ts).
import { describe, expect, test } from "vitest";
import { metered } from "../../src/deliver/metered";

const MiB = 1024 * 1024;

/** A body of `chunks` chunks of 1 MiB. */
function source(chunks: number): ReadableStream<Uint8Array> {
  let left = chunks;
  return new ReadableStream({
    pull(controller) {
      if (left-- === 0) controller.close();
      else controller.enqueue(new Uint8Array(MiB));
    },
  });
}

async function drain(body: ReadableStream<Uint8Array>): Promise<{ received: number; failed: boolean }> {
  const reader = body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { received, failed: false };
      received += value.byteLength;
    }
  } catch {
    return { received, failed: true };
  }
}

describe("a metered grant response", () => {
  test("whole, with the link live: every byte, a checkpoint per 8 MiB, nothing given back", async () => {
    const asked: number[] = [];
    const closes: number[] = [];
    const body = metered(source(20), 20 * MiB, { stillLive: async () => (asked.push(1), true), close: (unsent) => closes.push(unsent) }, 8 * MiB);
    expect(await drain(body)).toEqual({ received: 20 * MiB, failed: false });
    expect(asked.length).toBe(2);
    expect(closes).toEqual([0]);
  });

  test("revoked while running: cut at the next checkpoint, and the unsent rest given back", async () => {
    let live = true;
    const closes: number[] = [];
    const body = metered(source(20), 20 * MiB, { stillLive: async () => live, close: (unsent) => closes.push(unsent) }, 8 * MiB);
    const reader = body.getReader();
    let received = 0;
    for (let i = 0; i < 3; i++) received += (await reader.read()).value?.byteLength ?? 0;
    live = false;
    let failed = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
      }
    } catch {
      failed = true;
    }
    expect({ received, failed }).toEqual({ received: 8 * MiB, failed: true });
    expect(closes).toEqual([12 * MiB]);
  });

  test("a client that goes away gives back what it did not take, once", async () => {
    const closes: number[] = [];
    const body = metered(source(20), 20 * MiB, { stillLive: async () => true, close: (unsent) => closes.push(unsent) }, 8 * MiB);
    const reader = body.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(closes).toEqual([18 * MiB]);
  });
});
