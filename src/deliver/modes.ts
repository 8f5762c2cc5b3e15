// The delivery modes, one module each (mode.ts): a new mode is its module and its line here
// (its name is in config's DELIVERY_MODES, which this object must cover).
import type { DeliveryMode } from "../config/config";
import type { Access, Minted } from "../mint/grant";
import { GRANT_HEADERS, type Delivery } from "./mode";
import { redirect } from "./redirect";
import { stream } from "./stream";

export const DELIVERIES = { redirect, stream } satisfies Record<DeliveryMode, Delivery>;

/**
 * The mode a grant is delivered in: the one asked for, unless the access decision needs the
 * gateway (an IP lock) and that mode does not pass through it; stream mode then delivers it.
 */
export function deliveryFor(asked: DeliveryMode, access: Access): Delivery {
  const delivery = DELIVERIES[asked];
  return access.via.kind === "gateway" && !delivery.throughGateway ? DELIVERIES.stream : delivery;
}

/** A grant answered as JSON, for a button that fetches first (POST …/download-url). */
export function grantJson(minted: Minted): Response {
  return Response.json({ url: minted.url, expiresAt: new Date(minted.expiresAt * 1000).toISOString() }, { headers: GRANT_HEADERS });
}
