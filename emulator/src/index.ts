import { DurableObject } from "cloudflare:workers";
export class StreamAccount extends DurableObject<EmulatorEnv> {
  override async fetch(request: Request) { return new Response("hi " + new URL(request.url).host); }
}
export default {
  fetch(request, env) {
    return env.ACCOUNT.get(env.ACCOUNT.idFromName("account")).fetch(request);
  },
} satisfies ExportedHandler<EmulatorEnv>;
