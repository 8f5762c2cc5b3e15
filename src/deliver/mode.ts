// Step 6: a delivery mode hands a grant over. Each mode is one module implementing `Delivery`,
// collected in modes.ts; which one a grant is delivered in is decided there too.
import type { GrantRequest, MintDeps } from "../mint/grant";

/** What a grant hands over. */
export interface Minted<Mode extends string = string> {
  /** The mode that minted it, and so answers it. */
  mode: Mode;
  /** Where the grant ends: Stream's tokenized URL, or the gateway's /d/<ticket>. */
  url: string;
  /** Unix seconds. */
  expiresAt: number;
  /** Names the grant (the ticket's id). */
  grant: string;
}

export interface Delivery<Mode extends string = string> {
  /** Whether the grant's URL is the gateway's own /d/<ticket>, which sees every fetch (an IP lock needs that). */
  readonly throughGateway: boolean;
  /** The answer as the API documents it (OpenAPI): its status and what it means. */
  readonly documented: { status: number; description: string };
  /** What the grant hands over, minted before the grant is recorded, so that a minting fault costs no use. */
  mint(d: MintDeps, g: GrantRequest): Promise<Minted<Mode>>;
  /** The response that hands it over: the client's next request goes to `minted.url`. */
  respond(minted: Minted<Mode>): Response;
  /**
   * HEAD on a granting route: the status and headers `respond` gives, without a Location (a URL
   * there would be a grant), having taken, recorded and created nothing.
   */
  head(): Response;
}

/** Every response that carries a grant: never cached, and its URL never sent on as a Referer. */
export const GRANT_HEADERS = { "cache-control": "no-store", "referrer-policy": "no-referrer" } as const;

/** `respond` and `head` of a mode that sends the client on to the grant's URL with `status`. */
export function sendOn(status: 302 | 303): Pick<Delivery, "respond" | "head"> {
  return {
    respond: (minted) => new Response(null, { status, headers: { location: minted.url, ...GRANT_HEADERS } }),
    head: () => new Response(null, { status, headers: GRANT_HEADERS }),
  };
}
