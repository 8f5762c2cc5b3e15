// The pages a share link's visitor sees: the landing page (GET /s/:id: uses nothing, so link
// unfurlers can fetch it freely; after a wrong password, the same page with the reason), the
// "preparing" page of POST /s/:id, which resubmits itself, and the dead ends of a link that cannot
// be used. The visitor is often the app's customer's customer: the pages speak plainly, in the
// visitor's language (language/), carry the app's brand (BRAND_*), work without JavaScript, and
// use a few lines of it (allowed by a per-response nonce) to show times in the reader's own time
// zone and keep the count of downloads left current after a download.
import type { Brand, Config, DownloadType } from "../config/config";
import type { Problem } from "../problems";
import type { ShareLink } from "../share-links/store";
import { remainingUses, type DeadEnd, type UnusableLink } from "../share-links/status";
import { HTML_HEADERS, escapeHtml } from "./html";
import { phrase, type Key, type Values } from "../language/catalogue";
import { DATE_TIME, formatCount, formatDuration, formatSize, fromNow, recipientLocale, utcDateTime, type Locale } from "../language/locale";

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

/** What every share page is made with. */
export interface PageSettings {
  brand: Brand;
  /** Stream's delivery origin: the landing page's form may be redirected there. */
  deliveryOrigin: string;
  locale: Locale;
  now: number;
}

/** The visitor's language from Accept-Language, unless RECIPIENT_LANGUAGE pins one. */
export function pageSettings(config: Config, request: Request, now: number): PageSettings {
  return {
    brand: config.brand,
    deliveryOrigin: config.stream.deliveryBase,
    locale: recipientLocale(request.headers.get("accept-language"), config.recipientLanguage),
    now,
  };
}

/** A phrase of the page's language, as HTML: its words escaped, its values HTML already. */
const say = <K extends Key>(p: PageSettings, key: K, ...values: Values<K>): string => phrase(p.locale.language, escapeHtml, key, ...values);

const FILE_KIND = { default: "videoFile", audio: "audioFile" } as const satisfies Record<DownloadType, Key>;

/** A moment, in UTC on the server; the page's script rewrites it in the reader's own zone. */
const timeElement = (ms: number, locale: Locale): string =>
  `<time data-local="${escapeHtml(locale.format)}" datetime="${new Date(ms).toISOString()}">${escapeHtml(utcDateTime(ms, locale))}</time>`;

const NOINDEX = { "x-robots-tag": "noindex, nofollow" };

/**
 * The share pages' own policy: their one script, if any, by nonce; images from the gateway itself
 * (the poster) and the brand's logo; `fetch` to the gateway itself (the count of downloads left).
 * The landing form posts to /s/:id, which redirects to Stream's delivery host, and browsers apply
 * `form-action` to that redirect too, so a page with the form allows the delivery origin there.
 */
function sharePageCsp(brand: Brand, nonce: string | null, formRedirect: string | null): string {
  const images = ["'self'", ...(brand.logoUrl ? [brand.logoUrl.origin] : [])].join(" ");
  const scripts = nonce === null ? "" : ` script-src 'nonce-${nonce}';`;
  const policy = HTML_HEADERS["content-security-policy"].replace("default-src 'none';", `default-src 'none';${scripts} img-src ${images}; connect-src 'self';`);
  return formRedirect === null ? policy : policy.replace("form-action 'self'", `form-action 'self' ${formRedirect}`);
}

const newNonce = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));

// System fonts, one accent colour (--accent, set by each page: BRAND_ACCENT, validated as a hex
// colour in config/config.ts, so it is safe inside the style element), a card that fits 320 px and up
// (a fact's label takes at most 45% of it: some languages' labels are long), a 48 px button.
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
dl{display:grid;grid-template-columns:fit-content(45%) 1fr;gap:.25rem 1rem;margin:0 0 1.25rem}
dt{color:#4b5563}dd{margin:0;font-weight:500;overflow-wrap:anywhere}
label{display:block;font-weight:500;margin-bottom:.25rem}
input{width:100%;min-height:48px;padding:.5rem .75rem;font:inherit;border:1px solid #9ca3af;border-radius:8px}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.field{margin-bottom:1rem}
button{display:block;width:100%;min-height:48px;padding:.75rem 1rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:8px;cursor:pointer}
button:disabled{background:#6b7280;cursor:not-allowed}
.error{margin:0 0 1rem;padding:.75rem 1rem;border-radius:8px;background:#fef2f2;color:#991b1b;border:1px solid #fecaca}
.next{margin:0}
.fine{margin:1rem 0 0;font-size:.875rem;color:#4b5563}
progress{width:100%;height:1rem;margin-bottom:1rem}`;

interface Page {
  /** HTML: escaped already. */
  title: string;
  /** Allowed by a nonce of its response's own; null: the page needs none. */
  script: string | null;
  poster: string | null;
  body: string;
  status: number;
  /** Where the page's form may be redirected (Stream's delivery host); null: the page has no form. */
  formRedirect: string | null;
  headers?: Record<string, string> | undefined;
}

function render(page: Page, p: PageSettings): Response {
  const nonce = page.script === null ? null : newNonce();
  const vary: Record<string, string> = p.locale.negotiated ? { vary: "Accept-Language" } : {};
  const csp = sharePageCsp(p.brand, nonce, page.formRedirect);
  return new Response(shell(page, nonce, p), { status: page.status, headers: { ...HTML_HEADERS, "content-security-policy": csp, ...NOINDEX, ...vary, ...page.headers } });
}

function shell(s: Page, nonce: string | null, p: PageSettings): string {
  const { brand } = p;
  const logo = brand.logoUrl ? `<img src="${escapeHtml(brand.logoUrl.href)}" alt="">` : "";
  const header = brand.name !== null || logo ? `<header class="brand">${logo}<span>${escapeHtml(brand.name ?? "")}</span></header>` : "";
  const poster = s.poster ? `<img class="poster" src="${escapeHtml(s.poster)}" alt="" width="320" height="180">` : "";
  return `<!doctype html>
<html lang="${p.locale.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${s.title}</title>
<style>:root{--accent:${brand.accent};color-scheme:light}
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
${s.script === null ? "" : `<script nonce="${nonce}">${s.script}</script>\n`}</body>
</html>`;
}

/** A value for a script: JSON, with `<` escaped so no string can close the script element. */
const scriptValue = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

// Times in the reader's own zone, in the page's own locale, where the browser knows the zone;
// the server's UTC text stays otherwise.
const LOCAL_TIMES = `var options = ${scriptValue(DATE_TIME)};
document.querySelectorAll("time[data-local]").forEach(function (t) {
  try { t.textContent = new Date(t.dateTime).toLocaleString(t.getAttribute("data-local"), options); } catch (e) {}
});`;

// After a download starts, the page stays: ask the gateway (JSON, which uses nothing) how many
// are left, and say when none are.
const keepCount = (p: PageSettings) => `var words = ${scriptValue({ noneLeft: phrase(p.locale.language, String, "noneLeft"), stopped: phrase(p.locale.language, String, "linkStopped") })};
var form = document.querySelector("form[data-download]");
if (form) form.addEventListener("submit", function () {
  setTimeout(function () {
    fetch(form.action, { headers: { accept: "application/json" } }).then(function (r) { return r.ok ? r.json() : null; }).then(function (facts) {
      var left = document.getElementById("remaining");
      var button = form.querySelector("button");
      if (facts && left && facts.remainingDownloads !== null) {
        left.textContent = String(facts.remainingDownloads);
        if (facts.remainingDownloads === 0) { button.disabled = true; button.textContent = words.noneLeft; }
      }
      if (!facts) { button.disabled = true; button.textContent = words.stopped; }
    }).catch(function () {});
  }, 2500);
});`;

function facts(f: LinkFacts, p: PageSettings): string {
  const { locale } = p;
  const rows = [
    [say(p, "fileLabel"), say(p, FILE_KIND[f.type])],
    ...(f.durationSeconds === null ? [] : [[say(p, "lengthLabel"), escapeHtml(formatDuration(f.durationSeconds, locale))]]),
    ...(f.sizeBytes === null ? [] : [[say(p, "sizeLabel"), escapeHtml(formatSize(f.sizeBytes, locale))]]),
    [say(p, "expiresLabel"), say(p, "expiresWhen", { date: timeElement(f.expiresAt, locale), left: escapeHtml(fromNow(f.expiresAt - p.now, locale)) })],
    ...(f.remaining === null ? [] : [[say(p, "downloadsLeftLabel"), `<span id="remaining">${f.remaining}</span>`]]),
  ];
  return `<dl>${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join("")}</dl>`;
}

function downloadForm(f: LinkFacts, p: PageSettings, password: string | null, label: "download" | "checkAgain"): string {
  const field = !f.passwordRequired
    ? ""
    : password === null
      ? `<div class="field"><label for="password">${say(p, "passwordLabel")}</label><input id="password" name="password" type="password" required autocomplete="off"></div>`
      : `<input type="hidden" name="password" value="${escapeHtml(password)}">`;
  return `<form data-download method="post" action="${escapeHtml(f.mount)}/s/${escapeHtml(f.secret)}">
${field}<button type="submit">${say(p, label)}</button>
</form>`;
}

/** Why the last press of Download gave nothing: what checking the password raised, and whether one was typed. */
export interface PasswordRefused {
  problem: Problem;
  typed: boolean;
}

function passwordReason({ problem, typed }: PasswordRefused, p: PageSettings): string {
  if (problem.type === "not-entitled") return say(p, typed ? "wrongPassword" : "passwordMissing");
  const seconds = Number(problem.options.headers?.["retry-after"] ?? 1);
  const when = escapeHtml(fromNow(seconds * 1000, p.locale));
  return problem.type === "rate-limited" ? say(p, "tooManyPasswords", { when }) : say(p, "passwordUnchecked", { when });
}

/** The landing page; `refused` says why the last download was not given, with its status and headers (Retry-After). */
export function landingPage(f: LinkFacts, p: PageSettings, refused?: PasswordRefused): Response {
  const error = refused ? `<p class="error" role="alert">${passwordReason(refused, p)}</p>\n` : "";
  const title = f.videoName === null ? say(p, "sharedDownload") : escapeHtml(f.videoName);
  const lede =
    p.brand.name === null
      ? say(p, f.type === "audio" ? "sharedAudio" : "sharedVideo")
      : say(p, f.type === "audio" ? "sharedAudioBy" : "sharedVideoBy", { who: escapeHtml(p.brand.name) });
  const body = `<h1>${title}</h1>
<p class="lede">${lede}</p>
${facts(f, p)}
${error}${downloadForm(f, p, null, "download")}
<p class="fine">${say(p, "keepPage")}</p>`;
  const script = `${LOCAL_TIMES}\n${keepCount(p)}`;
  return render({ title, script, poster: f.posterUrl, body, status: refused?.problem.status ?? 200, formRedirect: p.deliveryOrigin, headers: refused?.problem.options.headers }, p);
}

/**
 * 202 while Stream prepares the file. Refreshing would only GET the landing page, so the page
 * POSTs its form again after `retryAfter` seconds (without JavaScript, its button does).
 */
export function linkPreparingPage(f: LinkFacts, p: PageSettings, progress: { percent: number; retryAfter: number }, password: string | null): Response {
  const { percent, retryAfter } = progress;
  const rounded = Math.floor(percent);
  const title = f.videoName === null ? say(p, "preparingTitle") : escapeHtml(f.videoName);
  const body = `<h1>${title}</h1>
<p class="lede" role="status">${say(p, "preparingLede")}</p>
<progress max="100" value="${rounded}" aria-label="${say(p, "preparingProgress")}">${rounded}%</progress>
${downloadForm(f, p, password, "checkAgain")}`;
  const script = `setTimeout(function () { document.forms[0].submit(); }, ${retryAfter * 1000});`;
  return render({ title, script, poster: f.posterUrl, body, status: 202, formRedirect: p.deliveryOrigin, headers: { "retry-after": String(retryAfter) } }, p);
}

/** A dead end's words: what happened (a heading and why), what to do next, and what kind of file it was, where its state may say. */
function deadEndWords(end: DeadEnd, p: PageSettings): { title: string; why: string; next: string; file: DownloadType | null; shared: string | null } {
  switch (end.kind) {
    case "not-found":
      return { title: say(p, "notFoundTitle"), why: say(p, "notFoundWhy"), next: say(p, "notFoundNext"), file: null, shared: null };
    case "link-exhausted": {
      const count = formatCount(end.allowed, p.locale);
      return { title: say(p, "exhaustedTitle"), why: say(p, "exhaustedWhy", { count }), next: say(p, "askForNewLink"), file: end.type, shared: end.title };
    }
    case "link-expired":
      return { title: say(p, "expiredTitle"), why: say(p, "expiredWhy", { date: timeElement(end.at, p.locale) }), next: say(p, "askForNewLink"), file: end.type, shared: end.title };
    case "link-revoked":
      return { title: say(p, "revokedTitle"), why: say(p, "revokedWhy", { date: timeElement(end.at, p.locale) }), next: say(p, "revokedNext"), file: null, shared: null };
    case "link-suspended":
      return { title: say(p, "suspendedTitle"), why: say(p, "suspendedWhy"), next: say(p, "suspendedNext"), file: null, shared: null };
    case "link-paused":
      return end.because === "access-lost"
        ? { title: say(p, "pausedTitle"), why: say(p, "pausedAccessWhy"), next: say(p, "pausedAccessNext"), file: null, shared: null }
        : { title: say(p, "pausedTitle"), why: say(p, "pausedVideoWhy"), next: say(p, "pausedVideoNext"), file: null, shared: null };
  }
}

/**
 * A link that cannot be used, for a person: the brand, what happened and what to do next, with
 * the problem's `type` and status in data attributes (the JSON says the same to programs).
 */
export function deadEndPage(problem: UnusableLink, p: PageSettings): Response {
  const { title, why, next, file, shared: what } = deadEndWords(problem.deadEnd, p);
  const named = what === null ? "" : `<dt>${say(p, "titleLabel")}</dt><dd>${escapeHtml(what)}</dd>`;
  const shared = file === null ? "" : `<dl>${named}<dt>${say(p, "fileLabel")}</dt><dd>${say(p, FILE_KIND[file])}</dd></dl>\n`;
  const body = `<h1>${title}</h1>
<p class="lede" data-problem="${problem.type}" data-status="${problem.status}">${why}</p>
${shared}<p class="next">${next}</p>`;
  // Only a page with a time on it needs the script that writes it in the reader's zone.
  const script = body.includes("<time ") ? LOCAL_TIMES : null;
  return render({ title, script, poster: null, body, status: problem.status, formRedirect: null, headers: problem.options.headers }, p);
}
