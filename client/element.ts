// <stream-download uid="…" type="default|audio" gateway="…" filename="…" label="…">: a button
// that asks the gateway for the file, shows Stream's progress while the file is prepared, then
// starts the download. Light DOM, so the page's CSS applies. The app's token comes from the
// `token` or `tokenProvider` property, or `token-provider="nameOfAGlobalFunction"`.
//
// State for scripts, CSS and browser tests: the host's `data-state` (idle, preparing, started,
// error) and `data-problem-type`; the status text ends as "Download started". Events (bubbling):
// `stream-download-progress` ({percentComplete, retryAfter}), `stream-download-started`
// ({url, expiresAt}), `stream-download-error` ({error}).
import { StreamDownloadError, type DownloadType } from "./download";
import { streamDownload, type StartMethod, type StreamDownloadOptions } from "./start";

type TokenProvider = () => string | Promise<string>;
export type DownloadState = "idle" | "preparing" | "started" | "error";

const LABELS: Record<DownloadType, string> = { default: "Download MP4", audio: "Download audio" };

function globalTokenProvider(name: string | null): TokenProvider | null {
  if (!name) return null;
  const value = (globalThis as Record<string, unknown>)[name];
  return typeof value === "function" ? (value as TokenProvider) : null;
}

/** What the status line says about a failure: the gateway's title and detail. */
function describe(error: unknown): { text: string; type: string } {
  if (error instanceof StreamDownloadError) {
    const detail = error.detail && error.detail !== error.title ? ` ${error.detail}` : "";
    return { text: `${error.title}.${detail}`, type: error.type };
  }
  return { text: error instanceof Error ? error.message : String(error), type: "error" };
}

export class StreamDownloadElement extends HTMLElement {
  static readonly observedAttributes = ["uid", "type", "label"];

  /** Headers for every request (e.g. an app's CSRF header when its session cookie identifies the user). */
  headers: Record<string, string> | null = null;
  /** The app's JWT for the user; wins over `tokenProvider`. */
  token: string | null = null;
  /** Called before every request to the gateway. */
  tokenProvider: TokenProvider | null = null;

  #button: HTMLButtonElement | null = null;
  #progress: HTMLProgressElement | null = null;
  #status: HTMLElement | null = null;
  #controller: AbortController | null = null;

  get uid(): string {
    return this.getAttribute("uid") ?? "";
  }

  get downloadType(): DownloadType {
    return this.getAttribute("type") === "audio" ? "audio" : "default";
  }

  get state(): DownloadState {
    return (this.dataset["state"] as DownloadState | undefined) ?? "idle";
  }

  connectedCallback(): void {
    if (this.#button === null) this.#render();
    this.#sync();
  }

  disconnectedCallback(): void {
    this.#controller?.abort();
  }

  attributeChangedCallback(): void {
    this.#sync();
  }

  /** Asks the gateway and starts the download; a click while one is under way does nothing. */
  async download(): Promise<void> {
    if (this.#controller !== null) return;
    const controller = new AbortController();
    this.#controller = controller;
    this.#show("preparing", "Asking the gateway…", null);
    try {
      const result = await streamDownload(this.uid, {
        gateway: this.getAttribute("gateway") ?? "",
        type: this.downloadType,
        filename: this.getAttribute("filename") ?? undefined,
        start: (this.getAttribute("start") as StartMethod | null) ?? "anchor",
        ...this.#credentials(),
        signal: controller.signal,
        onProgress: (progress) => {
          this.#show("preparing", `Preparing the file… ${Math.floor(progress.percentComplete)}%`, progress.percentComplete);
          this.#emit("stream-download-progress", progress);
        },
      });
      this.#show("started", "Download started", null);
      this.#emit("stream-download-started", result);
    } catch (error) {
      if (controller.signal.aborted) {
        this.#show("idle", "Cancelled", null);
      } else {
        const { text, type } = describe(error);
        this.#show("error", text, null, type);
        this.#emit("stream-download-error", { error });
      }
    } finally {
      this.#controller = null;
    }
  }

  /** Stops waiting for Stream. */
  cancel(): void {
    this.#controller?.abort();
  }

  /** The token (or its provider) and the headers the gateway is asked with. */
  #credentials(): Pick<StreamDownloadOptions, "token" | "getToken" | "headers"> {
    const headers = this.headers ?? undefined;
    if (this.token) return { token: this.token, headers };
    const provider = this.tokenProvider ?? globalTokenProvider(this.getAttribute("token-provider"));
    if (provider !== null) return { getToken: provider, headers };
    if (headers !== undefined) return { headers };
    throw new StreamDownloadError({
      type: "unauthenticated",
      title: "Sign-in required",
      status: 0,
      detail: "No token for the gateway: set the element's token, tokenProvider or headers.",
    });
  }

  #render(): void {
    const button = document.createElement("button");
    button.type = "button";
    button.addEventListener("click", () => void this.download());
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.hidden = true;
    // role=status is a polite live region: progress and errors are announced without moving focus.
    const status = document.createElement("span");
    status.setAttribute("role", "status");
    status.className = "stream-download-status";
    this.replaceChildren(button, " ", progress, " ", status);
    this.#button = button;
    this.#progress = progress;
    this.#status = status;
    this.dataset["state"] = "idle";
  }

  #sync(): void {
    if (!this.#button || !this.#progress || !this.#status) return;
    const label = this.getAttribute("label") ?? LABELS[this.downloadType];
    const id = `${this.downloadType}-${this.uid}`;
    this.#button.textContent = label;
    this.#button.dataset["testid"] = `stream-download-${id}`;
    this.#progress.dataset["testid"] = `stream-download-progress-${id}`;
    this.#progress.setAttribute("aria-label", `${label}: preparation progress`);
    this.#status.dataset["testid"] = `stream-download-status-${id}`;
  }

  #show(state: DownloadState, text: string, percent: number | null, problemType?: string): void {
    this.dataset["state"] = state;
    if (problemType === undefined) delete this.dataset["problemType"];
    else this.dataset["problemType"] = problemType;
    if (this.#button) {
      if (state === "preparing") this.#button.setAttribute("aria-disabled", "true");
      else this.#button.removeAttribute("aria-disabled");
    }
    if (this.#progress) {
      this.#progress.hidden = state !== "preparing";
      // Without a value the bar is indeterminate: nothing is known until the first 202.
      if (percent === null) this.#progress.removeAttribute("value");
      else this.#progress.value = percent;
    }
    if (this.#status) this.#status.textContent = text;
  }

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }
}
