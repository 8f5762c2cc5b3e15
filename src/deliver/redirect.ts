// Redirect mode: a 302 to Stream's tokenized URL; the browser fetches the file from Stream, which
// applies the token's access rules and saves it under Stream's `?filename=`.
import { grantSeconds } from "../mint/grant";
import { mintDownloadToken } from "../mint/token";
import { deliveryUrl } from "../mint/urls";
import { streamFilenameParam } from "./filename";
import { sendOn, type Delivery } from "./mode";

export const redirect: Delivery<"redirect"> = {
  throughGateway: false,
  documented: { status: 302, description: "Redirect to the download at Stream's delivery host (`Cache-Control: no-store`)" },
  async mint(d, g) {
    // Stream's URL cannot hold what the gateway must (an IP lock): deliveryTo never picks this mode then.
    if (g.access.via.kind === "gateway") throw new Error("unreachable: a grant the gateway must deliver was minted as a Stream URL");
    const { token, expiresAt } = await mintDownloadToken(d.signer, {
      video: g.video,
      ttlSeconds: grantSeconds(d.config, g),
      notAfter: g.notAfter,
      accessRules: g.access.rules,
      now: Math.floor(d.now / 1000),
    });
    const url = deliveryUrl(d.config, token, g.type, streamFilenameParam(g.name, g.video));
    return { mode: "redirect", url, expiresAt, grant: crypto.randomUUID() };
  },
  ...sendOn(302),
};
