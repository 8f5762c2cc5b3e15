// The account's side of the Workers binding (binding.ts): each call is counted and disturbed by
// injected faults like a REST call, runs the operations the REST routes run, and answers in the
// binding's shapes. Failures come back as data, not thrown, so that the entry point throws them
// once, in the caller's isolate's view, instead of across two RPC hops.
import { RpcTarget } from "cloudflare:workers";
import { z } from "zod";
import type { Emulator } from "./emulator";
import { strike, type BindingOperation, type InjectedFailure, type Operation } from "./instruments";
import { REFUSAL_MESSAGES, TOO_LONG_CODE, createDownload, deleteDownload, listVideos } from "./operations";
import { renderBindingVideo, renderDownloads } from "./render";
import type { VideoRecord } from "./store";

/** The error names workers-types declares for the binding, plus Miniflare's name for a plain `StreamError`. */
export type StreamErrorName =
  | "BadRequestError"
  | "NotFoundError"
  | "ForbiddenError"
  | "RateLimitedError"
  | "InternalError"
  | "StreamBindingError";

export interface BindingFailure {
  name: StreamErrorName;
  message: string;
  /** A Cloudflare API error code. */
  code: number;
  /** The HTTP status the failure stands for. */
  statusCode: number;
}

export type BindingOutcome<T> = { ok: true; value: T } | { ok: false; failure: BindingFailure };

/**
 * A fault injected for the REST operation a binding call stands for strikes the call too, so a
 * test that disturbs "downloads.create" disturbs a client whichever way it reaches Stream.
 */
const REST_TWIN: Record<BindingOperation, Operation> = {
  "binding.details": "videos.get",
  "binding.downloads.get": "downloads.get",
  "binding.downloads.generate": "downloads.create",
  "binding.downloads.delete": "downloads.delete",
  "binding.videos.list": "videos.list",
};

const failed = (name: StreamErrorName, statusCode: number, code: number, message: string) =>
  ({ ok: false, failure: { name, statusCode, code, message } }) as const;

// Codes as Miniflare's local binding uses them.
const notFound = (message: string) => failed("NotFoundError", 404, 10003, message);
const badRequest = (message: string) => failed("BadRequestError", 400, 10005, message);

/** The error the binding's documentation names for the status a fault makes REST answer. */
function injected(failure: InjectedFailure): BindingOutcome<never> {
  const { status, code, message } = failure;
  if (status === 400) return failed("BadRequestError", status, code, message);
  if (status === 401 || status === 403) return failed("ForbiddenError", status, code, message);
  if (status === 404) return failed("NotFoundError", status, code, message);
  if (status === 429) return failed("RateLimitedError", status, code, message);
  if (status >= 500) return failed("InternalError", status, code, message);
  return failed("StreamBindingError", status, code, message);
}

const DownloadTypeArg = z.enum(["default", "audio"]);

const Comparison = z.enum(["eq", "gt", "gte", "lt", "lte"]);
// workers-types' StreamVideosListParams, with its documented defaults for the comparisons.
const ListParams = z.object({
  limit: z.number().int().positive().optional(),
  before: z.iso.datetime({ offset: true }).optional(),
  beforeComp: Comparison.default("lt"),
  after: z.iso.datetime({ offset: true }).optional(),
  afterComp: Comparison.default("gte"),
});

function compare(a: number, comparison: z.infer<typeof Comparison>, b: number): boolean {
  switch (comparison) {
    case "eq":
      return a === b;
    case "gt":
      return a > b;
    case "gte":
      return a >= b;
    case "lt":
      return a < b;
    case "lte":
      return a <= b;
  }
}

/** Returned by the account's Durable Object (account.ts), so calls on it run inside the object. */
export class AccountBinding extends RpcTarget {
  readonly #emulator: Emulator;

  constructor(emulator: Emulator) {
    super();
    this.#emulator = emulator;
  }

  details(id: string): Promise<BindingOutcome<StreamVideo>> {
    return this.#onVideo("binding.details", id, (video, now) => {
      const { settings, quirks } = this.#emulator;
      return { ok: true, value: renderBindingVideo(video, settings, now, quirks) };
    });
  }

  downloadsGet(id: string): Promise<BindingOutcome<StreamDownloadGetResponse>> {
    return this.#onVideo("binding.downloads.get", id, (video, now) => ({
      ok: true,
      value: renderDownloads(video, this.#emulator.settings, now),
    }));
  }

  downloadsGenerate(id: string, type: unknown): Promise<BindingOutcome<StreamDownloadGetResponse>> {
    return this.#onVideo("binding.downloads.generate", id, async (video, now) => {
      const downloadType = DownloadTypeArg.safeParse(type);
      if (!downloadType.success) return badRequest(`invalid download type: ${String(type)}`);
      const created = await createDownload(this.#emulator, video, downloadType.data, now);
      if (created.ok) return { ok: true, value: renderDownloads(video, this.#emulator.settings, now) };
      // The REST answer to not-ready is a quirk; the binding carries the same status and code.
      if (created.refusal === "not-ready") {
        const { status, code } = this.#emulator.quirks.notReadyCreate;
        return failed("StreamBindingError", status, code, REFUSAL_MESSAGES["not-ready"]);
      }
      return failed("StreamBindingError", 400, TOO_LONG_CODE, REFUSAL_MESSAGES[created.refusal]);
    });
  }

  downloadsDelete(id: string, type: unknown): Promise<BindingOutcome<null>> {
    return this.#onVideo("binding.downloads.delete", id, async (video) => {
      const downloadType = DownloadTypeArg.safeParse(type);
      if (!downloadType.success) return badRequest(`invalid download type: ${String(type)}`);
      const deleted = await deleteDownload(this.#emulator, video, downloadType.data);
      return deleted ? { ok: true, value: null } : notFound(`Download not found: ${id}/${downloadType.data}`);
    });
  }

  async videosList(params: unknown): Promise<BindingOutcome<StreamVideo[]>> {
    const struck = await this.#admit("binding.videos.list", undefined);
    if (struck) return struck;
    const parsed = ListParams.safeParse(params ?? {});
    if (!parsed.success) return badRequest(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const { limit, before, beforeComp, after, afterComp } = parsed.data;
    const emulator = this.#emulator;
    const now = emulator.now();
    const videos = listVideos(emulator, {})
      .filter((v) => before === undefined || compare(v.created, beforeComp, Date.parse(before)))
      .filter((v) => after === undefined || compare(v.created, afterComp, Date.parse(after)))
      .slice(0, limit);
    return { ok: true, value: videos.map((v) => renderBindingVideo(v, emulator.settings, now, emulator.quirks)) };
  }

  /** What `guarded` does for a REST call, less authentication and the token's rate limit. */
  async #admit(operation: BindingOperation, id: string | undefined): Promise<BindingOutcome<never> | null> {
    this.#emulator.counters.count(operation, id);
    const failure = await strike(this.#emulator.faults.take([operation, REST_TWIN[operation]], id));
    return failure ? injected(failure) : null;
  }

  async #onVideo<T>(
    operation: BindingOperation,
    id: string,
    answer: (video: VideoRecord, now: number) => BindingOutcome<T> | Promise<BindingOutcome<T>>,
  ): Promise<BindingOutcome<T>> {
    const struck = await this.#admit(operation, id);
    if (struck) return struck;
    const video = this.#emulator.video(id);
    return video ? answer(video, this.#emulator.now()) : notFound(`Video not found: ${id}`);
  }
}
