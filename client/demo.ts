// The demo page's script (public/demo/index.html, served only when DEMO_ENABLED): sign in as a demo
// user, download with the <stream-download> element, create, copy and revoke share links, see a
// link's uses and reinstate a paused one, and read the events the gateway sent the app. It
// imports the helper from the URL an app would use, so the page also proves that URL works.
import { StreamDownloadError, type StreamDownloadElement } from "/assets/stream-download.js";
// What /demo/users and /demo/videos answer (types only: nothing of src/ reaches the browser).
import type { DemoUser } from "../src/demo/users";
import type { StreamVideo as DemoVideo } from "../src/stream/client";

interface Session {
  user: { id: string; name: string };
  videos: string[];
  token: string;
  expiresAt: string;
}

interface ShareLink {
  id: string;
  url: string;
  video: string;
  type: "default" | "audio";
  expiresAt: string;
  maxDownloads: number | null;
  uses: number;
  status: string;
  passwordProtected: boolean;
  maxNetworks: number | null;
  suspension: { at: string; networks: number; countries: number } | null;
}

interface LinkUse {
  at: string;
  country: string | null;
  network: string | null;
}

interface ReceivedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

let session: Session | null = null;
let videos: DemoVideo[] = [];

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** A new element with attributes and children; text is always set as text, never as HTML. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

function describe(error: unknown): string {
  if (error instanceof StreamDownloadError) {
    return error.detail && error.detail !== error.title ? `${error.title}. ${error.detail}` : error.title;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A gateway call; a problem answer becomes a StreamDownloadError (its `type`, `title`, `detail`). */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  // Every POST and DELETE of the API needs the bearer header; the cookie only serves GET downloads.
  if (session !== null) headers["authorization"] = `Bearer ${session.token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await StreamDownloadError.fromResponse(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A GET of the page's data: the answer, or null once the page's error line says why. */
async function load<T>(path: string): Promise<T | null> {
  try {
    return await api<T>("GET", path);
  } catch (error) {
    showPageError(error);
    return null;
  }
}

function showPageError(error: unknown): void {
  byId("page-error").textContent = error === null ? "" : describe(error);
}

const videoName = (uid: string) => videos.find((v) => v.uid === uid)?.name ?? uid;

// 1. Sign in

function renderUsers(users: DemoUser[]): void {
  byId("users").replaceChildren(
    ...users.map((user) => {
      const button = h("button", { type: "button", "data-testid": `sign-in-${user.id}` }, `Sign in as ${user.name}`);
      button.addEventListener("click", () => void signIn(user));
      return h(
        "li",
        { "data-user": user.id, "data-testid": `user-${user.id}` },
        h("h3", {}, user.name),
        button,
        h("p", {}, user.about),
      );
    }),
  );
}

/** Forgets what the previous user typed and was told. */
function resetForms(): void {
  byId<HTMLFormElement>("share-form").reset();
  byId("share-result").hidden = true;
  for (const id of ["share-error", "copy-status", "links-status"]) byId(id).textContent = "";
}

async function signIn(user: DemoUser): Promise<void> {
  showPageError(null);
  try {
    session = await api<Session>("POST", "/demo/sign-in", { user: user.id });
  } catch (error) {
    showPageError(error);
    return;
  }
  for (const item of byId("users").querySelectorAll("li")) {
    if (item.dataset["user"] === user.id) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
  const until = new Date(session.expiresAt).toLocaleString();
  byId("session-state").textContent = `Signed in as ${session.user.name} (token valid until ${until}).`;
  byId("sign-out").hidden = false;
  for (const id of ["videos-section", "share-section", "links-section", "events-section"]) byId(id).hidden = false;
  resetForms();
  await loadVideos();
  await Promise.all([loadLinks(), loadEvents()]);
}

async function signOut(): Promise<void> {
  showPageError(null);
  try {
    await api("POST", "/demo/sign-out");
  } catch (error) {
    showPageError(error);
  }
  session = null;
  for (const item of byId("users").querySelectorAll("li")) item.removeAttribute("aria-current");
  for (const id of ["videos-section", "share-section", "links-section", "events-section", "uses", "sign-out"]) byId(id).hidden = true;
  byId("videos").replaceChildren();
  byId("links").replaceChildren();
  byId("events").replaceChildren();
  resetForms();
  byId("session-state").textContent = "Signed out.";
}

// 2. Download

function stateText(video: DemoVideo): string {
  if (video.state === "error") return `error${video.errorReasonCode ? ` (${video.errorReasonCode})` : ""}`;
  return video.readyToStream ? "ready" : `${video.state} (processing)`;
}

function downloadButton(video: DemoVideo, type: "default" | "audio"): StreamDownloadElement {
  const element = document.createElement("stream-download") as StreamDownloadElement;
  element.setAttribute("uid", video.uid);
  element.setAttribute("type", type);
  element.tokenProvider = () => {
    if (session === null) throw new Error("Sign in first.");
    return session.token;
  };
  return element;
}

function renderVideo(video: DemoVideo): HTMLLIElement {
  const headingId = `video-${video.uid}-name`;
  const listed = session?.videos.includes(video.uid) ?? false;
  const facts = h(
    "p",
    { class: "facts" },
    "Stream: ",
    h("strong", { "data-testid": `video-state-${video.uid}` }, stateText(video)),
    " · Signed URLs: ",
    h("strong", {}, video.requireSignedURLs ? "required" : "not required (public)"),
    " · Your token: ",
    h("strong", { class: listed ? "entitled" : "not-entitled" }, listed ? "lists this video" : "does not list it"),
    " · UID ",
    h("code", {}, video.uid),
  );
  const cookieLink = h(
    "a",
    { href: `/v1/videos/${video.uid}/download`, "data-testid": `cookie-link-${video.uid}` },
    "Plain link (session cookie)",
  );
  return h(
    "li",
    {},
    h(
      "article",
      { "aria-labelledby": headingId, "data-testid": `video-${video.uid}` },
      h("h3", { id: headingId }, video.name ?? video.uid),
      facts,
      h("div", { class: "actions" }, downloadButton(video, "default"), downloadButton(video, "audio"), cookieLink),
    ),
  );
}

async function loadVideos(): Promise<void> {
  const answer = await load<{ videos: DemoVideo[] }>("/demo/videos");
  if (answer === null) return;
  ({ videos } = answer);
  byId("videos").replaceChildren(...videos.map(renderVideo));
  const select = byId<HTMLSelectElement>("share-video");
  const chosen = select.value;
  select.replaceChildren(...videos.map((v) => h("option", { value: v.uid }, v.name ?? v.uid)));
  if (videos.some((v) => v.uid === chosen)) select.value = chosen;
}

// 3. Share a link

function countries(text: string): string[] | undefined {
  const codes = text
    .split(/[\s,;]+/)
    .map((code) => code.trim().toUpperCase())
    .filter((code) => code !== "");
  return codes.length === 0 ? undefined : codes;
}

async function createLink(): Promise<void> {
  const error = byId("share-error");
  const maxField = byId<HTMLInputElement>("share-max");
  error.textContent = "";
  maxField.removeAttribute("aria-invalid");
  const max = maxField.value.trim();
  if (max !== "" && !/^[1-9]\d*$/.test(max)) {
    maxField.setAttribute("aria-invalid", "true");
    error.textContent = "Maximum downloads must be a whole number of at least 1, or empty for no limit.";
    maxField.focus();
    return;
  }
  const networks = byId<HTMLInputElement>("share-networks").value.trim();
  if (networks !== "" && !/^[1-9]\d*$/.test(networks)) {
    byId("share-networks").setAttribute("aria-invalid", "true");
    error.textContent = "The number of networks must be a whole number of at least 1, or empty for no limit.";
    byId("share-networks").focus();
    return;
  }
  byId("share-networks").removeAttribute("aria-invalid");
  const password = byId<HTMLInputElement>("share-password").value;
  const codes = countries(byId<HTMLInputElement>("share-countries").value);
  const body = {
    type: byId<HTMLSelectElement>("share-type").value,
    expiresIn: Number(byId<HTMLSelectElement>("share-expires").value),
    ...(max === "" ? {} : { maxDownloads: Number(max) }),
    ...(networks === "" ? {} : { maxNetworks: Number(networks) }),
    ...(codes === undefined ? {} : { countries: codes }),
    ...(password === "" ? {} : { password }),
  };
  const video = byId<HTMLSelectElement>("share-video").value;
  let created: { id: string; url: string; expiresAt: string };
  try {
    created = await api("POST", `/v1/videos/${encodeURIComponent(video)}/share-links`, body);
  } catch (failure) {
    error.textContent = describe(failure);
    return;
  }
  const url = byId<HTMLInputElement>("share-url");
  url.value = created.url;
  byId<HTMLAnchorElement>("open-link").href = created.url;
  byId("copy-status").textContent = `Link created; it expires ${new Date(created.expiresAt).toLocaleString()}.`;
  byId("share-result").hidden = false;
  url.focus();
  url.select();
  await Promise.all([loadLinks(), loadEvents()]);
}

async function copyLink(): Promise<void> {
  const url = byId<HTMLInputElement>("share-url");
  const status = byId("copy-status");
  try {
    await navigator.clipboard.writeText(url.value);
    status.textContent = "Copied to the clipboard.";
  } catch {
    url.focus();
    url.select();
    status.textContent = "This browser blocked the clipboard: the link is selected, press Ctrl+C to copy it.";
  }
}

// 4. Your share links

const STATUS_TEXT: Record<string, string> = {
  active: "Active",
  "link-expired": "Expired",
  "link-revoked": "Revoked",
  "link-exhausted": "Used up",
  "link-suspended": "Paused",
};

function statusText(link: ShareLink): string {
  const text = STATUS_TEXT[link.status] ?? link.status;
  return link.suspension === null ? text : `${text}: used from ${link.suspension.networks} networks`;
}

function renderLink(link: ShareLink): HTMLTableRowElement {
  const name = videoName(link.video);
  const file = link.type === "audio" ? "Audio (M4A)" : "MP4";
  const uses = h("button", { type: "button", "data-testid": `show-uses-${link.id}`, "aria-label": `Uses of the ${file} link to ${name}` }, "Uses");
  uses.addEventListener("click", () => void showUses(link, name));
  const revoke = h(
    "button",
    { type: "button", class: "danger", "data-testid": `revoke-${link.id}`, "aria-label": `Revoke the ${file} link to ${name}` },
    "Revoke",
  );
  revoke.disabled = link.status !== "active" && link.status !== "link-suspended";
  revoke.addEventListener("click", () => void revokeLink(link, name));
  const actions: HTMLElement[] = [uses];
  if (link.status === "link-suspended") {
    const reinstate = h("button", { type: "button", class: "primary", "data-testid": `reinstate-${link.id}`, "aria-label": `Reinstate the ${file} link to ${name}` }, "Reinstate");
    reinstate.addEventListener("click", () => void reinstateLink(link, name));
    actions.push(reinstate);
  }
  actions.push(revoke);
  // data-label names the column on the narrow layout's cards (demo.css); the roles keep the table
  // a table to assistive technology there (index.html).
  const cell = (label: string, attributes: Record<string, string>, ...children: Array<Node | string>) =>
    h("td", { role: "cell", "data-label": label, ...attributes }, ...children);
  return h(
    "tr",
    { role: "row", "data-testid": `link-${link.id}` },
    cell("Video", {}, h("span", {}, name, h("br"), h("a", { href: link.url, target: "_blank", rel: "noopener", class: "muted" }, `/s/${link.id.slice(0, 10)}…`))),
    cell("File", {}, `${file}${link.passwordProtected ? " · password" : ""}`),
    cell("Expires", {}, new Date(link.expiresAt).toLocaleString()),
    cell("Downloads", { "data-testid": `link-uses-${link.id}` }, `${link.uses} of ${link.maxDownloads ?? "unlimited"}`),
    cell("Status", { "data-testid": `link-status-${link.id}` }, statusText(link)),
    h("td", { role: "cell" }, h("div", { class: "link-actions" }, ...actions)),
  );
}

async function loadLinks(): Promise<void> {
  const answer = await load<{ links: ShareLink[] }>("/v1/share-links?limit=100");
  if (answer === null) return;
  const { links } = answer;
  byId("links").replaceChildren(...links.map(renderLink));
  byId("links-table").hidden = links.length === 0;
  byId("links-empty").hidden = links.length > 0;
}

async function revokeLink(link: ShareLink, name: string): Promise<void> {
  if (!window.confirm(`Revoke the link to ${name}? Anyone who has it can no longer download, and it cannot be undone.`)) return;
  const status = byId("links-status");
  try {
    await api("DELETE", `/v1/share-links/${encodeURIComponent(link.id)}`);
  } catch (error) {
    status.textContent = describe(error);
    return;
  }
  status.textContent = `Revoked the link to ${name}.`;
  await Promise.all([loadLinks(), loadEvents()]);
  // The row's button is now disabled and cannot hold focus: keep the keyboard in this section.
  byId("links-heading").focus();
}

async function reinstateLink(link: ShareLink, name: string): Promise<void> {
  const status = byId("links-status");
  try {
    await api("POST", `/v1/share-links/${encodeURIComponent(link.id)}/reinstate`);
  } catch (error) {
    status.textContent = describe(error);
    return;
  }
  status.textContent = `Reinstated the link to ${name}; only uses from now on count.`;
  await loadLinks();
  byId("links-heading").focus();
}

async function showUses(link: ShareLink, name: string): Promise<void> {
  let uses: LinkUse[];
  try {
    ({ uses } = await api<{ uses: LinkUse[] }>("GET", `/v1/share-links/${encodeURIComponent(link.id)}/uses?limit=50`));
  } catch (error) {
    byId("links-status").textContent = describe(error);
    return;
  }
  byId("uses-heading").textContent = `Uses of the link to ${name}`;
  byId("uses-rows").replaceChildren(
    ...uses.map((use) => h("tr", {}, h("td", {}, new Date(use.at).toLocaleString()), h("td", {}, use.country ?? "unknown"), h("td", {}, use.network ?? "unknown"))),
  );
  byId("uses-table").hidden = uses.length === 0;
  byId("uses-empty").hidden = uses.length > 0;
  byId("uses").hidden = false;
  byId("uses-heading").focus();
}

// 5. What your backend hears

function describeEvent(event: ReceivedEvent): string {
  const { data } = event;
  switch (event.type) {
    case "download.granted":
      return `${String(data["user"] ?? `link ${String(data["link"]).slice(0, 10)}…`)} got the ${data["type"] === "audio" ? "M4A" : "MP4"} of ${videoName(String(data["video"]))}`;
    case "link.suspended":
      return `a link to ${videoName(String(data["video"]))} was paused: used from ${String(data["networks"])} networks`;
    default:
      return Object.entries(data).map(([key, value]) => `${key}: ${String(value)}`).join(", ");
  }
}

async function loadEvents(): Promise<void> {
  const answer = await load<{ events: ReceivedEvent[] }>("/demo/events");
  if (answer === null) return;
  const { events } = answer;
  byId("events").replaceChildren(
    ...events.map((event) =>
      h("li", { "data-testid": `event-${event.type}` }, h("code", {}, event.type), ` ${describeEvent(event)} `, h("span", { class: "muted" }, new Date(event.timestamp).toLocaleTimeString())),
    ),
  );
  byId("events-empty").hidden = events.length > 0;
}

async function start(): Promise<void> {
  byId("sign-out").addEventListener("click", () => void signOut());
  byId("refresh-videos").addEventListener("click", () => void loadVideos());
  byId("refresh-links").addEventListener("click", () => void loadLinks());
  byId("refresh-events").addEventListener("click", () => void loadEvents());
  byId("copy-link").addEventListener("click", () => void copyLink());
  byId("share-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void createLink();
  });
  try {
    const { users } = await api<{ users: DemoUser[] }>("GET", "/demo/users");
    renderUsers(users);
  } catch (error) {
    showPageError(error);
  }
}

void start();
