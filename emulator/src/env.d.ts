// Bindings the emulator uses when present but does not declare in wrangler.toml.
interface EmulatorEnv {
  /** Tests bind this to the gateway so that webhooks reach it without a network. */
  WEBHOOK_TARGET?: Fetcher;
}
