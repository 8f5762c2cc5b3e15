// Sending the browser to the file once the gateway has handed out its URL.
import { requestDownloadUrl, type DownloadUrl, type DownloadUrlOptions } from "./download";

/**
 * How the browser is sent to the file: "anchor" (default) clicks a hidden link, "iframe" loads it
 * in a hidden frame (needs `frame-src` for Stream's origin under a strict CSP), "none" only returns
 * the URL. Stream answers with `Content-Disposition: attachment`, so the page stays where it is.
 */
export type StartMethod = "anchor" | "iframe" | "none";

export interface StreamDownloadOptions extends DownloadUrlOptions {
  start?: StartMethod;
}

/** Waits for the gateway to hand out the file's URL, then starts the download. */
export async function streamDownload(uid: string, options: StreamDownloadOptions = {}): Promise<DownloadUrl> {
  const result = await requestDownloadUrl(uid, options);
  startDownload(result.url, options.start ?? "anchor");
  return result;
}

const IFRAME_LIFETIME_MS = 60_000;

export function startDownload(url: string, how: StartMethod = "anchor"): void {
  if (how === "none") return;
  if (how === "iframe") {
    const frame = document.createElement("iframe");
    frame.hidden = true;
    frame.src = url;
    document.body.append(frame);
    setTimeout(() => frame.remove(), IFRAME_LIFETIME_MS);
    return;
  }
  const link = document.createElement("a");
  link.href = url;
  // Ignored across origins, where Stream's attachment header does the same job.
  link.download = "";
  link.rel = "noopener noreferrer";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}
