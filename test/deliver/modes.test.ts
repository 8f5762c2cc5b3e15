// The delivery modes (src/deliver/modes.ts): each answers as it documents, a HEAD as its GET
// without the URL, and a grant the gateway must hold (an IP lock) is never a Stream URL.
import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { DELIVERIES, DELIVERY_MODES, deliveryOf, deliveryTo } from "../../src/deliver/modes";
import type { Access, GrantRequest } from "../../src/mint/grant";
import { readTicket } from "../../src/mint/ticket";
import { gatewayOf } from "../../src/worker";

const VIDEO = "ab".repeat(16);
const NO_CHECK = { allow: null, block: null };
const STREAM_URL: Access = { rules: [], gatewayCheck: NO_CHECK, via: { kind: "stream-url" } };
const LOCKED: Access = { rules: [], gatewayCheck: NO_CHECK, via: { kind: "gateway", network: "203.0.113.7/32" } };

async function mintDeps() {
  const gateway = await gatewayOf(env);
  return { ...gateway, now: Date.now(), base: "https://gw.example" };
}

const grant = (access: Access): GrantRequest => ({ video: VIDEO, type: "default", name: "Talk", access });

describe("every delivery mode", () => {
  test.each(DELIVERY_MODES)("%s answers with the status it documents; its HEAD is that answer without the URL", async (mode) => {
    const delivery = deliveryOf(mode);
    const minted = await delivery.mint(await mintDeps(), grant(delivery.throughGateway ? LOCKED : STREAM_URL));
    expect(minted.mode).toBe(mode);
    const answer = delivery.respond(minted);
    const head = delivery.head();
    expect(answer.status).toBe(delivery.documented.status);
    expect(head.status).toBe(answer.status);
    const { location, ...rest } = Object.fromEntries(answer.headers);
    expect(location).toBe(minted.url);
    expect(rest["cache-control"]).toBe("no-store");
    expect(Object.fromEntries(head.headers)).toEqual(rest);
  });
});

describe("deliveryTo", () => {
  test("an IP-locked grant goes through the gateway whatever mode was asked for; otherwise the mode asked for", async () => {
    const { config } = await gatewayOf(env);
    const client = { ip: "203.0.113.7", network: "203.0.113.0/24", country: "US" };
    for (const mode of DELIVERY_MODES) {
      const locked = deliveryTo({ config: { ...config, lockToClientIp: true }, client }, mode);
      expect(locked.delivery.throughGateway).toBe(true);
      expect(locked.access.via).toEqual({ kind: "gateway", network: "203.0.113.7/32" });
      const free = deliveryTo({ config, client }, mode);
      expect(free.delivery).toBe(deliveryOf(mode));
      expect(free.access.via.kind).toBe(mode === "stream" ? "gateway" : "stream-url");
    }
  });

  test("redirect mode refuses to mint a grant the gateway must hold, rather than hand out an unlocked Stream URL", async () => {
    await expect(DELIVERIES.redirect.mint(await mintDeps(), grant(LOCKED))).rejects.toThrow(/unreachable/);
  });

  test("stream mode's URL is the gateway's own ticket, bound to the grant's network", async () => {
    const d = await mintDeps();
    const minted = await DELIVERIES.stream.mint(d, grant(LOCKED));
    expect(minted.url.startsWith("https://gw.example/d/")).toBe(true);
    const ticket = await readTicket(d.ticketKey, minted.url.slice("https://gw.example/d/".length), d.now);
    expect(ticket).toMatchObject({ id: minted.grant, video: VIDEO, network: "203.0.113.7/32", expiresAt: minted.expiresAt });
  });
});
