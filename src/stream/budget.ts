// The gateway-wide Stream API budget. Stream allows 1,200 API calls per 5 minutes per token,
// counted with the app's own calls and the dashboard, and locks the token out for 5 minutes past
// that (every caller then fails). One user probing random UIDs, or a crowd on the status route,
// must not get there: every Stream API call first takes one from this budget, and when it is
// spent the gateway answers 503 with Retry-After instead of calling. Hot downloads make no API
// call, so they never ask.
import type { StreamApiBudget } from "./budget-object";
import type { ApiBudget } from "./call-gate";

export function streamApiBudget(namespace: DurableObjectNamespace<StreamApiBudget>, accountId: string, limit: number): ApiBudget {
  return {
    async take() {
      try {
        // A stub per call: stubs are cheap, and one must not outlive the request that made it.
        return await namespace.get(namespace.idFromName(accountId)).take(limit);
      } catch (error) {
        // Open, not closed: a hiccup of the budget's object must not stop every first download.
        console.error("Stream API budget unavailable; calling Stream without it", error instanceof Error ? error.message : error);
        return 0;
      }
    },
  };
}
