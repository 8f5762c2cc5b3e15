// How a Stream call fails, typed: the clients (REST and binding) and their gate throw
// StreamCallError, and `streamProblem` is the one place a failure becomes what the client of the
// gateway is told. Callers that must tell an outage from a refusal (the status route, the
// re-check cron) read `failure.kind` instead of a problem's wording.
import { misconfigured, Problem, retryLater } from "../problems";

/** What clients are told to wait after an outage; Stream gives no hint. */
const OUTAGE_RETRY_SECONDS = 5;

export type StreamFailure =
  /** Stream answered 429: every call of the client waits `seconds`. */
  | { kind: "rate-limited"; seconds: number }
  /** The gateway's own budget of Stream calls (STREAM_API_BUDGET) is spent for `seconds`. */
  | { kind: "budget-spent"; seconds: number }
  /** This user's or network's share of that budget is spent for `seconds`; others may still call. */
  | { kind: "share-spent"; scope: "user" | "network"; seconds: number }
  /** Stream failed several calls in a row: nobody asks it again for `seconds` (budget.ts). */
  | { kind: "breaker-open"; seconds: number }
  /** No answer: network errors, timeouts and 5xx, after the retries. */
  | { kind: "no-answer" }
  /** An answer that does not read as Stream's. */
  | { kind: "unreadable" }
  /** Stream refused the gateway's credentials: the API token, or the binding. */
  | { kind: "credentials-refused"; setting: "STREAM_API_TOKEN" | "STREAM" }
  /** A 4xx the gateway did not expect for `request` (a bug here, or a change at Stream). */
  | { kind: "refused"; request: string; status: number; codes: number[] };

export class StreamCallError extends Error {
  constructor(readonly failure: StreamFailure) {
    super(`Stream call failed: ${failure.kind}`);
    this.name = "StreamCallError";
  }

  /** Whether Stream may answer later: the caller may try again (the cron does). */
  get passing(): boolean {
    return this.failure.kind !== "credentials-refused" && this.failure.kind !== "refused";
  }
}

export function streamProblem(failure: StreamFailure): Problem {
  switch (failure.kind) {
    case "rate-limited":
      return retryLater("upstream-unavailable", "Stream rate limit: calls paused", failure.seconds);
    case "budget-spent":
      return retryLater("upstream-unavailable", "The gateway's Stream API budget is spent for now", failure.seconds);
    case "share-spent":
      return retryLater("rate-limited", `Your share of the gateway's Stream API calls is spent for now (STREAM_API_${failure.scope.toUpperCase()}_SHARE)`, failure.seconds);
    case "breaker-open":
      return retryLater("upstream-unavailable", "Stream is failing; the gateway asks it again shortly", failure.seconds);
    case "no-answer":
      return retryLater("upstream-unavailable", "Stream did not answer", OUTAGE_RETRY_SECONDS);
    case "unreadable":
      return retryLater("upstream-unavailable", "Stream sent an unreadable answer", OUTAGE_RETRY_SECONDS);
    case "credentials-refused":
      return misconfigured(failure.setting, failure.setting === "STREAM" ? "Stream refused the STREAM binding" : "Stream refused STREAM_API_TOKEN");
    case "refused":
      return new Problem("download-failed", "Stream refused the request for this download.");
  }
}
