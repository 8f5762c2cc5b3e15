import devAccount from "../fixtures/dev-account.json";

/** The emulator's fixed identity and timings, read once from its Env. */
export interface Settings {
  accountId: string;
  apiToken: string;
  deliveryBase: string;
  downloadMs: number;
  processingMs: number;
  /** The account's one queue: where event subscriptions publish, through the STREAM_EVENTS binding. */
  eventsQueue: EventsQueue;
}

export interface EventsQueue {
  id: string;
  name: string;
  created: string;
}

// Fixed, so that a subscription made once names the queue across restarts and resets.
const EVENTS_QUEUE_ID = "6eeb8d1a34380c8624444cad6f43765d";
const EVENTS_QUEUE_CREATED = "2026-01-01T00:00:00.000Z";
const DEFAULT_EVENTS_QUEUE_NAME = "stream-download-stream-events";

function seconds(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of seconds ≥ 0`);
  return value * 1000;
}

/** The vars it reads: the hosts that take the bundled script (tests) may leave all but one unset. */
interface Vars {
  DELIVERY_BASE: string;
  DOWNLOAD_SECONDS?: string;
  PROCESSING_SECONDS?: string;
  EVENTS_QUEUE_NAME?: string;
}

export function readSettings(env: Vars): Settings {
  return {
    accountId: devAccount.accountId,
    apiToken: devAccount.apiToken,
    deliveryBase: env.DELIVERY_BASE.replace(/\/+$/, ""),
    downloadMs: seconds("DOWNLOAD_SECONDS", env.DOWNLOAD_SECONDS, 8),
    processingMs: seconds("PROCESSING_SECONDS", env.PROCESSING_SECONDS, 20),
    eventsQueue: {
      id: EVENTS_QUEUE_ID,
      name: env.EVENTS_QUEUE_NAME || DEFAULT_EVENTS_QUEUE_NAME,
      created: EVENTS_QUEUE_CREATED,
    },
  };
}
