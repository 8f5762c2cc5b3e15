// The download-button helper for web apps, served by the gateway at /assets/stream-download.js.
// A dependency-free ES module:
//   import { streamDownload } from "https://<gateway>/assets/stream-download.js";
//   await streamDownload(uid, { gateway, token, type: "audio", onProgress });
// Importing it also defines <stream-download uid="…" type="default|audio" gateway="…">.
import { StreamDownloadElement } from "./element";

export {
  StreamDownloadError,
  requestDownloadUrl,
  type DownloadProgress,
  type DownloadType,
  type DownloadUrl,
  type DownloadUrlOptions,
  type ProblemDetails,
} from "./download";
export { startDownload, streamDownload, type StartMethod, type StreamDownloadOptions } from "./start";
export { StreamDownloadElement };

if (typeof customElements !== "undefined" && !customElements.get("stream-download")) {
  customElements.define("stream-download", StreamDownloadElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "stream-download": StreamDownloadElement;
  }
}
