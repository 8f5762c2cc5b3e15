// The pages a share link's visitor sees: the landing page (GET /s/:id: uses nothing, so link
// unfurlers can fetch it freely) and the "preparing" page of POST /s/:id, which resubmits itself.
import type { ShareLink } from "./store";
import { remainingUses } from "./status";
import { HTML_HEADERS, escapeHtml, page } from "../http/html";

export interface LinkFacts {
  id: string;
  /** The gateway's mount path ("" at the root): the page's form posts back under it. */
  mount: string;
  videoName: string | null;
  type: "default" | "audio";
  expiresAt: number;
  remaining: number | null;
  passwordRequired: boolean;
}

export function linkFacts(link: ShareLink, videoName: string | null, mount: string): LinkFacts {
  return {
    id: link.id,
    mount,
    videoName,
    type: link.type,
    expiresAt: link.expiresAt,
    remaining: remainingUses(link),
    passwordRequired: link.passwordHash !== null,
  };
}

export function linkJson(f: LinkFacts) {
  return {
    id: f.id,
    video: { name: f.videoName },
    type: f.type,
    expiresAt: new Date(f.expiresAt).toISOString(),
    remainingDownloads: f.remaining,
    passwordRequired: f.passwordRequired,
  };
}

function downloadForm(f: LinkFacts, password: string | null, label: string): string {
  const field = !f.passwordRequired
    ? ""
    : password === null
      ? `<p><label for="password">Password</label><br><input id="password" name="password" type="password" required autocomplete="off"></p>`
      : `<input type="hidden" name="password" value="${escapeHtml(password)}">`;
  return `<form method="post" action="${escapeHtml(f.mount)}/s/${escapeHtml(f.id)}">
${field}
<p><button type="submit">${escapeHtml(label)}</button></p>
</form>`;
}

const NOINDEX = { "x-robots-tag": "noindex, nofollow" };

/**
 * The pages' form posts to /s/:id, which redirects to Stream's delivery host; browsers apply
 * `form-action` to that redirect too, so the delivery origin must be allowed there.
 */
function sharePageCsp(deliveryOrigin: string, nonce?: string): string {
  return HTML_HEADERS["content-security-policy"]
    .replace("default-src 'none';", nonce ? `default-src 'none'; script-src 'nonce-${nonce}';` : "default-src 'none';")
    .replace("form-action 'self'", `form-action 'self' ${deliveryOrigin}`);
}

export function landingPage(f: LinkFacts, deliveryOrigin: string): Response {
  const what = f.type === "audio" ? "Audio (M4A)" : "Video (MP4)";
  const uses = f.remaining === null ? "" : `<li>Downloads left: ${f.remaining}</li>`;
  const body = `<p>Someone shared a download with you.</p>
<ul>
<li>${escapeHtml(what)}</li>
<li>Link expires: <time datetime="${new Date(f.expiresAt).toISOString()}">${escapeHtml(new Date(f.expiresAt).toUTCString())}</time></li>
${uses}
</ul>
${downloadForm(f, null, "Download")}`;
  return new Response(page(f.videoName ?? "Shared download", body), {
    headers: { ...HTML_HEADERS, "content-security-policy": sharePageCsp(deliveryOrigin), ...NOINDEX },
  });
}

/**
 * 202 while Stream prepares the file. Refreshing would only GET the landing page, so the page
 * POSTs its form again after `retryAfter` seconds, with a script allowed by a per-response nonce.
 */
export function linkPreparingPage(
  f: LinkFacts,
  deliveryOrigin: string,
  progress: { percent: number; retryAfter: number },
  password: string | null,
): Response {
  const { percent, retryAfter } = progress;
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const rounded = Math.floor(percent);
  const body = `<p>Cloudflare Stream is preparing this file. This page continues by itself when it is ready.</p>
<progress max="100" value="${rounded}" aria-label="Preparation progress">${rounded}%</progress>
${downloadForm(f, password, "Check again")}
<script nonce="${nonce}">setTimeout(function () { document.forms[0].submit(); }, ${retryAfter * 1000});</script>`;
  const csp = sharePageCsp(deliveryOrigin, nonce);
  return new Response(page(f.videoName ?? "Preparing your download", body), {
    status: 202,
    headers: { ...HTML_HEADERS, "content-security-policy": csp, "retry-after": String(retryAfter), ...NOINDEX },
  });
}
