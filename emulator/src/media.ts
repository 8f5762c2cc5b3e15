// The delivered files: a real, playable 4-second MP4 and M4A (fixtures/make-fixtures.sh), and a
// JPEG poster frame (fixtures/make-thumbnail.mjs).
// wrangler's Data rule yields an ArrayBuffer and esbuild's binary loader a Uint8Array.
import mp4 from "../fixtures/sample.mp4";
import m4a from "../fixtures/sample.m4a";
import jpeg from "../fixtures/thumbnail.jpg";
import type { DownloadType } from "./store";

export interface MediaFile {
  bytes: Uint8Array;
  contentType: string;
  extension: string;
  etag: string;
}

function file(data: ArrayBuffer | Uint8Array, contentType: string, extension: string): MediaFile {
  const bytes = new Uint8Array(data);
  // A cheap, stable validator: the fixtures never change while the emulator runs.
  let hash = 0;
  for (const byte of bytes) hash = (hash * 31 + byte) | 0;
  return { bytes, contentType, extension, etag: `"${bytes.length.toString(16)}-${(hash >>> 0).toString(16)}"` };
}

export const MEDIA: Record<DownloadType, MediaFile> = {
  default: file(mp4, "video/mp4", "mp4"),
  audio: file(m4a, "audio/mp4", "m4a"),
};

export const VIDEO_DURATION_SECONDS = 4;

/** The poster frame of every video (fixtures/make-thumbnail.mjs). */
export const THUMBNAIL = new Uint8Array(jpeg);
