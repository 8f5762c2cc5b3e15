// The Stream calls of the gateway through the Stream Workers binding (`[stream] binding`), so the
// deployed Worker holds no API token: a leaked Worker secret cannot then delete the video
// library. Only details and downloads go this way; tokens are still minted locally (token.ts),
// because the binding's generateToken() takes no options: no `downloadable`, no access rules.
//
// The binding throws NotFoundError, BadRequestError, RateLimitedError, … with `code` and
// `statusCode`, and a plain StreamError for a video that is not ready or too long
// (docs/stream-behaviour.md). Across Workers RPC the class never survives: with enhanced error
// serialization (compatibility date 2026-04-21 and later) `name`, `code` and `statusCode` arrive
// as properties of a plain Error; without it only a message "NotFoundError: …" does. So the
// status is read from `statusCode`, else from the name, else from the message's prefix
// (emulator/README.md › Workers binding).
import * as z from "../input/zod";
import { StreamCallError } from "./errors";
import { errorText } from "../problems";
import type { DownloadType } from "../config/config";
import { type CallGate, LOCKOUT_SECONDS, OUTAGE, unreadable } from "./call-gate";
import {
  CreateRefusedError,
  Downloads,
  toVideo,
  Video,
  type StreamApi,
  type StreamDownloads,
  type StreamVideo,
} from "./client";

/** The part of the binding (workers-types' StreamBinding) the gateway calls. */
export interface StreamBindingLike {
  video(id: string): {
    details(): Promise<unknown>;
    downloads: { get(): Promise<unknown>; generate(type?: DownloadType): Promise<unknown> };
  };
  videos: { list(): Promise<unknown[]> };
}

/** The binding's videos name their id `id`, not REST's `uid`. */
const VideoList = z.array(z.extend(Video, { id: z.nullish(z.string()) }));

const STATUS_BY_NAME: Record<string, number> = {
  BadRequestError: 400,
  ForbiddenError: 403,
  NotFoundError: 404,
  RateLimitedError: 429,
  InternalError: 500,
  // "Not ready to stream" and "too long to generate a download": refusals of this video.
  StreamError: 400,
  StreamBindingError: 400,
};

/** A refusal Stream gave (4xx); anything else thrown is an outage. */
interface Refusal {
  status: number;
  code: number | null;
}

function refusalOf(error: unknown): Refusal | null {
  if (!(error instanceof Error)) return null;
  const { statusCode, code } = error as Error & { statusCode?: unknown; code?: unknown };
  const name = error.name !== "Error" ? error.name : /^(\w+Error): /.exec(error.message)?.[1];
  const status = typeof statusCode === "number" ? statusCode : name === undefined ? undefined : STATUS_BY_NAME[name];
  if (status === undefined || status >= 500) return null;
  return { status, code: typeof code === "number" ? code : null };
}

export class StreamBindingClient implements StreamApi {
  readonly #binding: StreamBindingLike;
  readonly #gate: CallGate;

  constructor(binding: StreamBindingLike, gate: CallGate) {
    this.#binding = binding;
    this.#gate = gate;
  }

  async getVideo(uid: string): Promise<StreamVideo | null> {
    const answer = await this.#call(() => this.#binding.video(uid).details());
    if ("refused" in answer) return this.#notFound(answer.refused, "details()");
    return toVideo(parse(Video, answer.value), uid);
  }

  // The binding's list takes no order: it lists as Stream does by default, the newest first.
  async listVideos(): Promise<StreamVideo[]> {
    const answer = await this.#call(() => this.#binding.videos.list());
    if ("refused" in answer) throw refusedUnexpectedly(answer.refused, "videos.list()");
    const videos = parse(VideoList, answer.value);
    return videos.flatMap((video) => (typeof video.id === "string" ? [toVideo(video, video.id)] : []));
  }

  async getDownloads(uid: string): Promise<StreamDownloads | null> {
    const answer = await this.#call(() => this.#binding.video(uid).downloads.get());
    // The binding says NotFoundError both for an unknown video and for one without downloads.
    if ("refused" in answer) return this.#notFound(answer.refused, "downloads.get()");
    return parse(Downloads, answer.value);
  }

  async createDownload(uid: string, type: DownloadType): Promise<StreamDownloads> {
    const answer = await this.#call(() => this.#binding.video(uid).downloads.generate(type));
    if ("refused" in answer) throw new CreateRefusedError(uid, answer.refused.status, answer.refused.code === null ? [] : [answer.refused.code]);
    return parse(Downloads, answer.value);
  }

  #notFound(refusal: Refusal, request: string): null {
    if (refusal.status === 404) return null;
    throw refusedUnexpectedly(refusal, request);
  }

  async #call(call: () => Promise<unknown>): Promise<{ value: unknown } | { refused: Refusal }> {
    return this.#gate.call(async () => {
      try {
        return { value: await call() };
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal === null) {
          console.error("Stream binding failed:", errorText(error));
          return OUTAGE;
        }
        // The binding's RateLimitedError names no wait: Stream's lockout is assumed, as for a REST 429 without one.
        if (refusal.status === 429) throw this.#gate.rateLimited(LOCKOUT_SECONDS);
        if (refusal.status === 401 || refusal.status === 403) {
          throw new StreamCallError({ kind: "credentials-refused", setting: "STREAM" });
        }
        return { refused: refusal };
      }
    });
  }
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw unreadable();
  return parsed.data;
}

/** A 4xx we did not expect: logged for us; for the client, the download could not be prepared. */
function refusedUnexpectedly(refusal: Refusal, request: string): StreamCallError {
  console.error(`The Stream binding refused ${request} (${refusal.status}, code ${refusal.code ?? "none"})`);
  return new StreamCallError({ kind: "refused", request, status: refusal.status, codes: refusal.code === null ? [] : [refusal.code] });
}
