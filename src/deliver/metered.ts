// A share-link grant's response body, counted as it streams (routes/tickets.ts): every
// `checkpointBytes` it asks whether its link is still live and stops there if not, it never sends
// more than it reserved, and at its end, or when the client goes away, it gives back what it
// reserved and did not send.
export interface Meter {
  /** Whether the response may go on past a checkpoint. */
  stillLive(): Promise<boolean>;
  /** Called once: the bytes reserved and not sent. */
  close(unsent: number): void;
}

export function metered(body: ReadableStream<Uint8Array>, reserved: number, meter: Meter, checkpointBytes: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  let nextCheckpoint = checkpointBytes;
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    meter.close(Math.max(0, reserved - sent));
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return finish();
        }
        if (sent + value.byteLength > reserved) throw new Error("the response is longer than its grant reserved");
        if (sent + value.byteLength > nextCheckpoint) {
          nextCheckpoint += checkpointBytes;
          if (!(await meter.stillLive())) throw new Error("the grant's link is no longer live");
        }
        sent += value.byteLength;
        controller.enqueue(value);
      } catch (error) {
        // Cut here: the client holds what it was sent, and resumes (or is refused) with a Range.
        await reader.cancel().catch(() => {});
        controller.error(error);
        finish();
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
      finish();
    },
    // Pulled only when the reader asks: what is counted as sent was handed on.
  }, { highWaterMark: 0 });
}
