// The delivery modes, one module each (mode.ts): a new mode is its module, and its name and entry
// here. Its name is then one the DELIVERY_MODES setting may list (the settings are parsed with
// DELIVERIES), a value of the routes' `mode`, and its answer is in OpenAPI's.
import type { Access } from "../mint/grant";
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
 * The mode a grant is delivered in: the one asked for, unless the access decision needs the
 * gateway (an IP lock) and that mode does not pass through it; stream mode then delivers it.
 */
export function deliveryFor(asked: DeliveryMode, access: Access): Delivery<DeliveryMode> {
  const delivery = deliveryOf(asked);
  return access.via.kind === "gateway" && !delivery.throughGateway ? DELIVERIES.stream : delivery;
}

/** A grant answered as JSON, for a button that fetches first (POST …/download-url). */
export function grantJson(minted: Minted): Response {
  return Response.json({ url: minted.url, expiresAt: new Date(minted.expiresAt * 1000).toISOString() }, { headers: GRANT_HEADERS });
}
