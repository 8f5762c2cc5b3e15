// The account's videos as the demo lists them: one call to Stream's video list with the gateway's
// own API token. Demo only: the gateway itself never lists videos.
import { z } from "zod";
import type { Config } from "../config";
import { retryLater } from "../problems";

export interface DemoVideo {
  uid: string;
  name: string | null;
  state: string;
  errorReasonCode: string | null;
  readyToStream: boolean;
  requireSignedURLs: boolean;
}

const VideoList = z.object({
  success: z.literal(true),
  result: z.array(
    z.object({
      uid: z.string(),
      readyToStream: z.boolean(),
      requireSignedURLs: z.boolean(),
      status: z.object({ state: z.string(), errorReasonCode: z.string().nullish() }),
      meta: z.record(z.string(), z.unknown()).nullish(),
    }),
  ),
});

const unavailable = () => retryLater("upstream-unavailable", "Stream's video list could not be read", 5);

export async function listVideos(stream: Config["stream"]): Promise<DemoVideo[]> {
  let body: unknown;
  try {
    const res = await fetch(`${stream.apiBase}/accounts/${stream.accountId}/stream?asc=true`, {
      headers: { authorization: `Bearer ${stream.apiToken}` },
      signal: AbortSignal.timeout(stream.timeoutMs),
    });
    body = await res.json();
  } catch {
    throw unavailable();
  }
  const list = VideoList.safeParse(body);
  if (!list.success) throw unavailable();
  return list.data.result.map((video) => {
    const name = video.meta?.["name"];
    return {
      uid: video.uid,
      name: typeof name === "string" ? name : null,
      state: video.status.state,
      errorReasonCode: video.status.errorReasonCode || null,
      readyToStream: video.readyToStream,
      requireSignedURLs: video.requireSignedURLs,
    };
  });
}
