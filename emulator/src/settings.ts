import devAccount from "../fixtures/dev-account.json";

/** The emulator's fixed identity and timings, read once from its Env. */
export interface Settings {
  accountId: string;
  apiToken: string;
  deliveryBase: string;
  downloadMs: number;
  processingMs: number;
}

function seconds(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of seconds ≥ 0`);
  return value * 1000;
}

export function readSettings(env: EmulatorEnv): Settings {
  return {
    accountId: devAccount.accountId,
    apiToken: devAccount.apiToken,
    deliveryBase: env.DELIVERY_BASE.replace(/\/+$/, ""),
    downloadMs: seconds("DOWNLOAD_SECONDS", env.DOWNLOAD_SECONDS, 8),
    processingMs: seconds("PROCESSING_SECONDS", env.PROCESSING_SECONDS, 20),
  };
}
