// The URLs at Stream a token opens: a download's file and a video's poster. Always built from
// STREAM_DELIVERY_BASE and the gateway's own token, never from request input.
import type { Config, DownloadType } from "../config/config";

export const DOWNLOAD_FILES: Record<DownloadType, { file: string; extension: "mp4" | "m4a" }> = {
  default: { file: "default.mp4", extension: "mp4" },
  audio: { file: "audio.m4a", extension: "m4a" },
};

/** The file of a download of `type`, saved under `filename` when one is given. */
export function deliveryUrl(config: Config, token: string, type: DownloadType, filename?: string): string {
  const url = new URL(`${config.stream.deliveryBase}/${token}/downloads/${DOWNLOAD_FILES[type].file}`);
  if (filename) url.searchParams.set("filename", filename);
  return url.href;
}

/**
 * A video's poster at Stream, exactly `width`×`height`: both sides and the fit are named, because
 * Stream's defaults are 640×640 and `crop` (docs/stream-behaviour.md §6). `crop` keeps the centre,
 * as the share page's `object-fit: cover` box would. The token may be view-only.
 */
export function thumbnailUrl(config: Config, token: string, size: { width: number; height: number }): string {
  const url = new URL(`${config.stream.deliveryBase}/${token}/thumbnails/thumbnail.jpg`);
  url.searchParams.set("width", String(size.width));
  url.searchParams.set("height", String(size.height));
  url.searchParams.set("fit", "crop");
  return url.href;
}
