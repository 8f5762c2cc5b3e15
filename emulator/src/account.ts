import { DurableObject } from "cloudflare:workers";
import { buildApp } from "./app";
import { AccountBinding } from "./binding-calls";
import { Emulator } from "./emulator";
import { seedState } from "./seed";
import { readSettings } from "./settings";
import type { AccountState } from "./store";

const STATE_KEY = "state";

/** The one account that every request and every binding call reaches. */
export function theAccount(env: EmulatorEnv): DurableObjectStub<StreamAccount> {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName("account"));
}

/**
 * One Durable Object holds the whole emulated account, so the API, the delivery host and the
 * control routes see one consistent state, it survives restarts of `wrangler dev`, and its alarm
 * delivers webhooks and publishes events when they are due even if nobody is asking.
 */
export class StreamAccount extends DurableObject<EmulatorEnv> {
  private readonly emulator: Emulator;
  private readonly app: ReturnType<typeof buildApp>;

  constructor(ctx: DurableObjectState, env: EmulatorEnv) {
    super(ctx, env);
    const settings = readSettings(env);
    const storage = ctx.storage;
    this.emulator = new Emulator(
      settings,
      seedState(settings, Date.now()),
      {
        save: (state) => storage.put(STATE_KEY, state),
        wakeAt: (time) => (time === null ? storage.deleteAlarm() : storage.setAlarm(time)),
      },
      // Counters, faults, quirks, the rate limit and the logs: written on every change, read back
      // here after an eviction.
      storage.kv,
      {
        // Webhooks go out through a service binding when one is configured (tests), else fetch.
        webhook: (request) => (env.WEBHOOK_TARGET ?? globalThis).fetch(request),
        // wrangler.toml declares the producer, but the hosts that take the bundled script (the
        // workerd tests, Miniflare in Node tests) bind it only when told to.
        events: env.STREAM_EVENTS as Queue | undefined,
      },
    );
    void ctx.blockConcurrencyWhile(async () => {
      const saved = await storage.get<AccountState>(STATE_KEY);
      if (saved) this.emulator.state = saved;
      else await this.emulator.save();
    });
    this.app = buildApp(this.emulator);
  }

  override fetch(request: Request): Promise<Response> | Response {
    return this.app.fetch(request);
  }

  /** The Workers binding entry point (binding.ts) calls the account through this. */
  binding(): AccountBinding {
    return new AccountBinding(this.emulator);
  }

  override async alarm(): Promise<void> {
    await this.emulator.deliverDue();
  }
}
