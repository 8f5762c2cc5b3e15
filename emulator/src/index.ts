import { StreamAccount } from "./account";

export { StreamAccount };

export default {
  fetch(request, env) {
    const account = env.ACCOUNT.get(env.ACCOUNT.idFromName("account"));
    return account.fetch(request);
  },
} satisfies ExportedHandler<EmulatorEnv>;
