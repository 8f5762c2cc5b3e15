// The gateway-wide Stream API budget. Stream allows 1,200 API calls per 5 minutes per user (its
// dashboard, API keys and every token of that user counted together, plus 200 a second per IP)
// and locks them out for 5 minutes past that, so every caller then fails. One user probing random
// UIDs, or a crowd on the status route, must not get there, nor spend what everyone else needs:
// every Stream API call first takes one from this budget, and from the share of the user and the
// network it is made for (STREAM_API_USER_SHARE, STREAM_API_NETWORK_SHARE). The same object keeps
// Stream's circuit breaker: outages open it for a backoff, so a failing Stream is asked once per
// backoff, not once per request. Hot downloads make no API call, so they never ask.
import type { Config } from "../config/config";
import type { StreamApiBudget } from "./budget-object";
import type { ApiBudget, Charge, Payer, Taken } from "./call-gate";
import { errorText } from "../problems";

export function streamApiBudget(
  namespace: DurableObjectNamespace<StreamApiBudget>,
  config: Pick<Config, "stream" | "streamApiBudget">,
  /** Called once per window when the account's budget runs out. */
  onSpent: (seconds: number) => Promise<void>,
): ApiBudget {
  // A stub per call: stubs are cheap, and one must not outlive the request that made it.
  const object = () => namespace.get(namespace.idFromName(config.stream.accountId));
  const { limit, userShare, networkShare } = config.streamApiBudget;
  return {
    async take(payer: Payer | null): Promise<Taken> {
      const charge: Charge = {
        accountLimit: limit,
        user: payer?.user ? { id: payer.user, share: userShare } : null,
        network: payer?.network ? { id: payer.network, share: networkShare } : null,
      };
      let taken: Taken;
      try {
        taken = await object().take(charge);
      } catch (error) {
        // Open, not closed: a hiccup of the budget's object must not stop every first download
        // (Stream's own limit still stands behind it).
        console.error("Stream API budget unavailable; calling Stream without it", errorText(error));
        return { ok: true, watched: false };
      }
      if (!taken.ok && taken.announce) {
        console.error(`Stream API budget spent: ${limit} calls in 5 minutes (STREAM_API_BUDGET); first downloads of new videos wait ${taken.seconds} s`);
        await onSpent(taken.seconds);
      }
      return taken;
    },
    async report(outcome) {
      try {
        await object().report(outcome);
      } catch (error) {
        console.error("Stream's breaker could not be told how a call went", errorText(error));
      }
    },
  };
}
