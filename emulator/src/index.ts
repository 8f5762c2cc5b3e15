import { StreamAccount } from "./account";

export { StreamAccount };

export default {
  async fetch(request, env) {
    const account = env.ACCOUNT.get(env.ACCOUNT.idFromName("account"));
    // Bodies are small API payloads; buffering them here lets the account answer without
    // reading one (a refused call) while workerd still sees the stream consumed.
    const forwarded = request.body === null ? request : new Request(request, { body: await request.arrayBuffer() });
    return account.fetch(forwarded);
  },
} satisfies ExportedHandler<EmulatorEnv>;
