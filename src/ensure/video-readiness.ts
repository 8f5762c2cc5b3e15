// What a Stream webhook teaches the download_state cache (see download-state.ts for the rows).
import type { Db } from "../storage/d1";

/**
 * The video is ready to stream now: rows that were refused because it was not (or because Stream
 * refused a download while it was still encoding) lose the refusal (waiting users see
 * "preparing" instead of 409) and their lease (polled_at 0), so the next request or webhook asks
 * Stream at once instead of after the poll interval.
 */
export async function clearNotReadyRefusals(db: Db, video: string): Promise<number> {
  const result = await db
    .prepare(
      `UPDATE download_state SET refusal = NULL, polled_at = 0
       WHERE video_id = ?1 AND status = 'pending' AND refusal IN ('video-not-ready', 'video-not-downloadable')`,
    )
    .bind(video)
    .run();
  return result.meta.changes;
}
