// The file size a share page shows. Stream's API reports the uploaded original's size, not the
// generated MP4's or M4A's, so the gateway asks Stream's delivery host with a HEAD (headers only:
// no body is pulled) under a token that never leaves it, once per download, and keeps the answer.
import type { Config } from "../config/config";
import type { Db } from "../storage/d1";
import { saveSize, takeSizeCheck, type DownloadState } from "../ensure/download-state";
import { deliveryUrl } from "../mint/urls";
import { mintDownloadToken, type Signer } from "../mint/token";

/** After a HEAD that told nothing, how long page views go without asking again. */
const RECHECK_MS = 60 * 60_000;

/** The page waits at most this long for the size. */
const HEAD_TIMEOUT_MS = 2000;

const TOKEN_SECONDS = 60;

/** A Content-Length as RFC 9110 spells it, and below 1 PB. */
const LENGTH = /^\d{1,15}$/;

/**
 * The size of a ready file, or null. The size is worth less than the page: a failing D1, a key
 * that will not sign or a host that will not answer leaves it out, and the page is shown.
 */
export async function downloadSize(d: { db: Db; signer: Signer; config: Config; now: number }, state: DownloadState): Promise<number | null> {
  if (state.status !== "ready") return null;
  if (state.downloadBytes !== null) return state.downloadBytes;
  if (state.sizeCheckedAt > d.now - RECHECK_MS) return null;
  try {
    if (!(await takeSizeCheck(d.db, state, d.now, d.now - RECHECK_MS))) return null;
    const { token } = await mintDownloadToken(d.signer, { video: state.video, ttlSeconds: TOKEN_SECONDS });
    const answer = await fetch(deliveryUrl(d.config, token, state.type), {
      method: "HEAD",
      signal: AbortSignal.timeout(Math.min(HEAD_TIMEOUT_MS, d.config.stream.timeoutMs)),
    });
    await answer.body?.cancel();
    const length = answer.headers.get("content-length") ?? "";
    if (answer.status !== 200 || !LENGTH.test(length) || Number(length) === 0) return null;
    await saveSize(d.db, state, Number(length));
    return Number(length);
  } catch {
    return null;
  }
}
