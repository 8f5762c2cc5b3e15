// The Stream Workers binding (workers-types `StreamBinding`) as a named entry point, so that a
// Worker bound to it (`[[services]] … entrypoint = "StreamBinding"`) meets the emulator's
// account: downloads that take DOWNLOAD_SECONDS, faults, quirks and counters, which Miniflare's
// own local binding does not have (emulator/README.md › Workers binding).
import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";
import { theAccount } from "./account";
import type { BindingFailure, BindingOutcome } from "./binding-calls";

type Account = ReturnType<typeof theAccount>;

/**
 * What the binding throws. Workers RPC does not carry the class to the caller: with
 * `enhanced_error_serialization` (the default from compatibility date 2026-04-21, on both sides)
 * the caller gets a plain `Error` with this `name`, `message`, `code` and `statusCode`; without
 * it, `name` "Error", the message "<name>: <message>" and neither code.
 */
class StreamError extends Error {
  readonly code: number;
  readonly statusCode: number;

  constructor(failure: BindingFailure) {
    super(failure.message);
    this.name = failure.name;
    this.code = failure.code;
    this.statusCode = failure.statusCode;
  }
}

async function settle<T>(outcome: Promise<BindingOutcome<T>>): Promise<T> {
  const result = await outcome;
  if (!result.ok) throw new StreamError(result.failure);
  return result.value;
}

class ScopedDownloads extends RpcTarget implements StreamScopedDownloads {
  readonly #account: Account;
  readonly #id: string;

  constructor(account: Account, id: string) {
    super();
    this.#account = account;
    this.#id = id;
  }

  get(): Promise<StreamDownloadGetResponse> {
    return settle(this.#account.binding().downloadsGet(this.#id));
  }

  generate(downloadType: StreamDownloadType = "default"): Promise<StreamDownloadGetResponse> {
    return settle(this.#account.binding().downloadsGenerate(this.#id, downloadType));
  }

  async delete(downloadType: StreamDownloadType = "default"): Promise<void> {
    await settle(this.#account.binding().downloadsDelete(this.#id, downloadType));
  }
}

class VideoHandle extends RpcTarget implements Pick<StreamVideoHandle, "id" | "details" | "downloads"> {
  readonly #account: Account;
  readonly #id: string;

  constructor(account: Account, id: string) {
    super();
    this.#account = account;
    this.#id = id;
  }

  // Getters, not fields: RPC reaches what is on the prototype, never an instance's own property.
  get id(): string {
    return this.#id;
  }

  get downloads(): ScopedDownloads {
    return new ScopedDownloads(this.#account, this.#id);
  }

  details(): Promise<StreamVideo> {
    return settle(this.#account.binding().details(this.#id));
  }
}

class Videos extends RpcTarget implements StreamVideos {
  readonly #account: Account;

  constructor(account: Account) {
    super();
    this.#account = account;
  }

  list(params?: StreamVideosListParams): Promise<StreamVideo[]> {
    return settle(this.#account.binding().videosList(params));
  }
}

/** Nothing happens until a method of what `video(id)` returns is called, as with Stream's binding. */
export class StreamBinding extends WorkerEntrypoint<EmulatorEnv> {
  video(id: string): VideoHandle {
    return new VideoHandle(theAccount(this.env), id);
  }

  get videos(): Videos {
    return new Videos(theAccount(this.env));
  }
}
