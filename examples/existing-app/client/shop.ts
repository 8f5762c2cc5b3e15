// The shop page's script, bundled to /shop.js (wrangler.toml [build]). Importing the element
// defines <stream-download>; each button sends the session's CSRF token in a header, and the
// browser adds the session cookie (the gateway is on the same origin, src/downloads.ts).
import { StreamDownloadElement } from "stream-download-gateway/element";

const csrfToken = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
for (const button of document.querySelectorAll("stream-download")) {
  if (button instanceof StreamDownloadElement) button.headers = { "x-csrf-token": csrfToken };
}
