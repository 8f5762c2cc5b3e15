// The delivery modes, one module each (mode.ts): a new mode is its module, and its name and entry
// here. Its name is then one the DELIVERY_MODES setting may list (the settings are parsed with
// DELIVERIES), a value of the routes' `mode`, and its answer is in OpenAPI's.
import { accessFor, type Access, type AccessDeps } from "../mint/grant";
import { GRANT_HEADERS, type Delivery, type Minted } from "./mode";
import { redirect } from "./redirect";
import { stream } from "./stream";

/** The modes' names: the public type `DeliveryMode`, so the package's declarations need no more of this file. */
export const DELIVERY_MODES = ["redirect", "stream"] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export const DELIVERIES = { redirect, stream } satisfies Record<DeliveryMode, Delivery>;

/** A mode by its name. */
export const deliveryOf = (mode: DeliveryMode): Delivery<DeliveryMode> => DELIVERIES[mode];

/**
 * How a grant reaches this client: the access decision (docs/design.md › Access rules), and the
 * mode that delivers it, the one asked for unless the decision needs the gateway (an IP lock) and
 * that mode does not pass through it; stream mode then delivers it.
 */
export function deliveryTo(
  d: AccessDeps,
  asked: DeliveryMode,
  link: { countries: string[] | null; lockToIp: boolean } | null = null,
): { access: Access; delivery: Delivery<DeliveryMode> } {
  const wanted = deliveryOf(asked);
  const access = accessFor(d, wanted.throughGateway, link);
  return { access, delivery: access.via.kind === "gateway" && !wanted.throughGateway ? DELIVERIES.stream : wanted };
}

/** A grant answered as JSON, for a button that fetches first (POST …/download-url). */
export function grantJson(minted: Minted): Response {
  return Response.json({ url: minted.url, expiresAt: new Date(minted.expiresAt * 1000).toISOString() }, { headers: GRANT_HEADERS });
}
