import { StreamAccount, theAccount } from "./account";
import { StreamBinding } from "./binding";

export { StreamAccount, StreamBinding };

export default {
  async fetch(request, env) {
    // Bodies are small API payloads; buffering them here lets the account answer without
    // reading one (a refused call) while workerd still sees the stream consumed.
    const forwarded = request.body === null ? request : new Request(request, { body: await request.arrayBuffer() });
    return theAccount(env).fetch(forwarded);
  },
} satisfies ExportedHandler<EmulatorEnv>;
