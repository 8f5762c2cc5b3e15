// The pages a share link's visitor sees: the landing page (GET /s/:id: uses nothing, so link
// unfurlers can fetch it freely; after a wrong password, the same page with the reason) and the
// "preparing" page of POST /s/:id, which resubmits itself. The visitor is often the app's
// customer's customer: the pages speak plainly, carry the app's brand (BRAND_*), work without
// JavaScript, and use a few lines of it (allowed by a per-response nonce) to show times in the
// reader's own time zone and keep the count of downloads left current after a download.
import type { Brand, DownloadType } from "../config";
import type { ShareLink } from "./store";
import { remainingUses } from "./status";
import { HTML_HEADERS, escapeHtml } from "../http/html";

export interface LinkFacts {
  /** The public id. */
  id: string;
  /** What the page's form posts back to. */
  secret: string;
  /** The gateway's mount path ("" at the root): the page's form posts back under it. */
  mount: string;
  videoName: string | null;
  /** Seconds, or null while unknown. */
  durationSeconds: number | null;
  /** The file's size in bytes, or null while unknown. */
  sizeBytes: number | null;
  /** The gateway's own poster URL (GET /s/:id/poster.jpg), or null before the video is known to be playable. */
  posterUrl: string | null;
  type: DownloadType;
  expiresAt: number;
  remaining: number | null;
  passwordRequired: boolean;
}

export function linkFacts(link: ShareLink, video: { name: string | null; durationSeconds: number | null; sizeBytes: number | null; posterUrl: string | null }, mount: string): LinkFacts {
  return {
    id: link.id,
    secret: link.secret,
    mount,
    videoName: video.name,
    durationSeconds: video.durationSeconds,
    sizeBytes: video.sizeBytes,
    posterUrl: video.posterUrl,
    type: link.type,
    expiresAt: link.expiresAt,
    remaining: remainingUses(link),
    passwordRequired: link.passwordHash !== null,
  };
}

/** `base`: the gateway's own URL, to make the poster's path absolute. */
export function linkJson(f: LinkFacts, base: string) {
  return {
    id: f.id,
    video: { name: f.videoName, durationSeconds: f.durationSeconds, sizeBytes: f.sizeBytes, thumbnail: f.posterUrl === null ? null : `${new URL(base).origin}${f.posterUrl}` },
    type: f.type,
    expiresAt: new Date(f.expiresAt).toISOString(),
    remainingDownloads: f.remaining,
    passwordRequired: f.passwordRequired,
  };
}

/** "4 s", "12 min 5 s", "1 h 3 min". */
function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return s % 60 === 0 ? `${minutes} min` : `${minutes} min ${s % 60} s`;
  return minutes % 60 === 0 ? `${Math.floor(minutes / 60)} h` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "850 KB", "12.4 MB", "1.3 GB": decimal units, as operating systems' file browsers mostly show them. */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${bytes} bytes`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** "in 45 minutes", "in 5 hours", "in 2 days": how long a link has left, as a person says it. */
function timeLeft(ms: number): string {
  const plural = (n: number, unit: string) => `in ${n} ${unit}${n === 1 ? "" : "s"}`;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 90) return plural(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.round(hours / 24), "day");
}

const UTC_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

const NOINDEX = { "x-robots-tag": "noindex, nofollow" };

/**
 * The share pages' own policy: their one script by nonce; images from the gateway itself (the
 * poster) and the brand's logo; `fetch` to the gateway itself (the count of downloads left). The
 * form posts to /s/:id, which redirects to Stream's delivery host, and browsers apply
 * `form-action` to that redirect too, so the delivery origin is allowed there.
 */
function sharePageCsp(deliveryOrigin: string, brand: Brand, nonce: string): string {
  const images = ["'self'", ...(brand.logoUrl ? [brand.logoUrl.origin] : [])].join(" ");
  return HTML_HEADERS["content-security-policy"]
    .replace("default-src 'none';", `default-src 'none'; script-src 'nonce-${nonce}'; img-src ${images}; connect-src 'self';`)
    .replace("form-action 'self'", `form-action 'self' ${deliveryOrigin}`);
}

const newNonce = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));

// System fonts, one accent colour (--accent, set by each page: BRAND_ACCENT, validated as a hex
// colour in config.ts, so it is safe inside the style element), a card that fits 320 px and up, a 48 px button.
const STYLES = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#f3f4f6}
main{max-width:30rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002;overflow:hidden}
.brand{display:flex;align-items:center;gap:.5rem;padding:.75rem 1.25rem;font-weight:600;border-bottom:1px solid #e5e7eb;overflow-wrap:anywhere}
.brand img{height:28px;width:auto;max-width:50%}
.poster{display:block;width:100%;height:auto;aspect-ratio:16/9;object-fit:cover;background:#111}
.body{padding:1.25rem}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 .25rem;overflow-wrap:anywhere}
.lede{margin:0 0 1rem;color:#4b5563}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0 0 1.25rem}
dt{color:#4b5563}dd{margin:0;font-weight:500;overflow-wrap:anywhere}
label{display:block;font-weight:500;margin-bottom:.25rem}
input{width:100%;min-height:48px;padding:.5rem .75rem;font:inherit;border:1px solid #9ca3af;border-radius:8px}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.field{margin-bottom:1rem}
button{display:block;width:100%;min-height:48px;padding:.75rem 1rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:8px;cursor:pointer}
button:disabled{background:#6b7280;cursor:not-allowed}
.error{margin:0 0 1rem;padding:.75rem 1rem;border-radius:8px;background:#fef2f2;color:#991b1b;border:1px solid #fecaca}
.fine{margin:1rem 0 0;font-size:.875rem;color:#4b5563}
progress{width:100%;height:1rem;margin-bottom:1rem}`;

interface Shell {
  title: string;
  brand: Brand;
  nonce: string;
  script: string;
  poster: string | null;
  body: string;
}

function shell(s: Shell): string {
  const logo = s.brand.logoUrl ? `<img src="${escapeHtml(s.brand.logoUrl.href)}" alt="">` : "";
  const header = s.brand.name !== null || logo ? `<header class="brand">${logo}<span>${escapeHtml(s.brand.name ?? "")}</span></header>` : "";
  const poster = s.poster ? `<img class="poster" src="${escapeHtml(s.poster)}" alt="" width="320" height="180">` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(s.title)}</title>
<style>:root{--accent:${s.brand.accent};color-scheme:light}
${STYLES}</style>
</head>
<body>
<main>
<article class="card">
${header}${poster}
<div class="body">
${s.body}
</div>
</article>
</main>
<script nonce="${s.nonce}">${s.script}</script>
</body>
</html>`;
}

// Times in the reader's own zone, where the browser knows it; the server's UTC text stays otherwise.
const LOCAL_TIMES = `document.querySelectorAll("time[data-local]").forEach(function (t) {
  try { t.textContent = new Date(t.dateTime).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }); } catch (e) {}
});`;

// After a download starts, the page stays: ask the gateway (JSON, which uses nothing) how many
// are left, and say when none are.
const KEEP_COUNT = `var form = document.querySelector("form[data-download]");
if (form) form.addEventListener("submit", function () {
  setTimeout(function () {
    fetch(form.action, { headers: { accept: "application/json" } }).then(function (r) { return r.ok ? r.json() : null; }).then(function (facts) {
      var left = document.getElementById("remaining");
      if (facts && left && facts.remainingDownloads !== null) {
        left.textContent = String(facts.remainingDownloads);
        if (facts.remainingDownloads === 0) { var b = form.querySelector("button"); b.disabled = true; b.textContent = "No downloads left"; }
      }
      if (!facts) { var b2 = form.querySelector("button"); b2.disabled = true; b2.textContent = "This link can no longer be used"; }
    }).catch(function () {});
  }, 2500);
});`;

function facts(f: LinkFacts, now: number): string {
  const what = f.type === "audio" ? "Audio (M4A)" : "Video (MP4)";
  const rows = [
    ["File", escapeHtml(what)],
    ...(f.durationSeconds === null ? [] : [["Length", escapeHtml(formatDuration(f.durationSeconds))]]),
    ...(f.sizeBytes === null ? [] : [["Size", escapeHtml(formatSize(f.sizeBytes))]]),
    [
      "Link expires",
      `<time data-local datetime="${new Date(f.expiresAt).toISOString()}">${escapeHtml(UTC_FORMAT.format(f.expiresAt))} UTC</time> (${escapeHtml(timeLeft(f.expiresAt - now))})`,
    ],
    ...(f.remaining === null ? [] : [["Downloads left", `<span id="remaining">${f.remaining}</span>`]]),
  ];
  return `<dl>${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join("")}</dl>`;
}

function downloadForm(f: LinkFacts, password: string | null, label: string): string {
  const field = !f.passwordRequired
    ? ""
    : password === null
      ? `<div class="field"><label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="off"></div>`
      : `<input type="hidden" name="password" value="${escapeHtml(password)}">`;
  return `<form data-download method="post" action="${escapeHtml(f.mount)}/s/${escapeHtml(f.secret)}">
${field}<button type="submit">${escapeHtml(label)}</button>
</form>`;
}

function respond(html: string, status: number, csp: string, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { ...HTML_HEADERS, "content-security-policy": csp, ...NOINDEX, ...headers } });
}

/** The landing page; `refused` says why the last download was not given (a wrong password, too many tries), with its status and headers (Retry-After). */
export function landingPage(
  f: LinkFacts,
  deliveryOrigin: string,
  brand: Brand,
  now: number,
  refused?: { status: number; reason: string; headers: Record<string, string> },
): Response {
  const nonce = newNonce();
  const error = refused ? `<p class="error" role="alert">${escapeHtml(refused.reason)}</p>\n` : "";
  const body = `<h1>${escapeHtml(f.videoName ?? "Shared download")}</h1>
<p class="lede">${brand.name === null ? "Someone" : escapeHtml(brand.name)} shared this ${f.type === "audio" ? "audio file" : "video"} with you to download.</p>
${facts(f, now)}
${error}${downloadForm(f, null, "Download")}
<p class="fine">The file downloads in this browser. Keep this page to download again while downloads are left.</p>`;
  const html = shell({ title: f.videoName ?? "Shared download", brand, nonce, script: `${LOCAL_TIMES}\n${KEEP_COUNT}`, poster: f.posterUrl, body });
  return respond(html, refused?.status ?? 200, sharePageCsp(deliveryOrigin, brand, nonce), refused?.headers);
}

/**
 * 202 while Stream prepares the file. Refreshing would only GET the landing page, so the page
 * POSTs its form again after `retryAfter` seconds (without JavaScript, its button does).
 */
export function linkPreparingPage(
  f: LinkFacts,
  deliveryOrigin: string,
  brand: Brand,
  progress: { percent: number; retryAfter: number },
  password: string | null,
): Response {
  const { percent, retryAfter } = progress;
  const nonce = newNonce();
  const rounded = Math.floor(percent);
  const body = `<h1>${escapeHtml(f.videoName ?? "Preparing your download")}</h1>
<p class="lede" role="status">Cloudflare Stream is preparing this file. This page continues by itself when it is ready.</p>
<progress max="100" value="${rounded}" aria-label="Preparation progress">${rounded}%</progress>
${downloadForm(f, password, "Check again")}`;
  const script = `setTimeout(function () { document.forms[0].submit(); }, ${retryAfter * 1000});`;
  const html = shell({ title: f.videoName ?? "Preparing your download", brand, nonce, script, poster: f.posterUrl, body });
  return respond(html, 202, sharePageCsp(deliveryOrigin, brand, nonce), { "retry-after": String(retryAfter) });
}
