// The file size a share page shows. Stream's API reports the uploaded original's size, not the
// generated MP4's or M4A's, so the gateway asks Stream's delivery host with a HEAD (headers only:
// no body is pulled) under a token that never leaves it, once per download, and keeps the answer.
import type { Deps } from "../context";
import { saveSize, takeSizeCheck, type DownloadState } from "../ensure/download-state";
import { deliveryUrl } from "../deliver/delivery";
import { mintDownloadToken } from "../mint/token";

/** After a HEAD that told nothing, how long page views go without asking again. */
const RECHECK_MS = 10 * 60_000;

/** The page waits at most this long for the size. */
const HEAD_TIMEOUT_MS = 2000;

const TOKEN_SECONDS = 60;

export async function downloadSize(d: Deps, state: DownloadState): Promise<number | null> {
  if (state.status !== "ready" || state.downloadBytes !== null) return state.downloadBytes;
  if (state.sizeCheckedAt > d.now - RECHECK_MS) return null;
  if (!(await takeSizeCheck(d.db, state, d.now, d.now - RECHECK_MS))) return null;
  // The size is worth less than the page: a key that will not sign or a host that will not answer
  // leaves it out (the download itself then reports the fault).
  const answer = await mintDownloadToken(d.signer, { video: state.video, ttlSeconds: TOKEN_SECONDS })
    .then(({ token }) =>
      fetch(deliveryUrl(d.config, token, state.type), {
        method: "HEAD",
        redirect: "manual",
        signal: AbortSignal.timeout(Math.min(HEAD_TIMEOUT_MS, d.config.stream.timeoutMs)),
      }),
    )
    .catch(() => null);
  await answer?.body?.cancel();
  const bytes = Number(answer?.headers.get("content-length") ?? Number.NaN);
  if (answer?.status !== 200 || !Number.isSafeInteger(bytes) || bytes <= 0) return null;
  await saveSize(d.db, state, bytes);
  return bytes;
}
