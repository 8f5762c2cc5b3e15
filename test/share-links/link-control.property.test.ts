// A share link stays under control after its grant, whatever happens in whatever order
// (docs/design.md › Share links). Property-based: fast-check generates rounds of redeems from
// several networks, fetches of the grants' URLs (whole or ranged), revocations and reinstatements;
// the commands of a round are sent at once, and the link's object fails at random (the call never
// reaches it). After each sequence: grants never pass the use limit, uses = audit rows = grants,
// no grant delivers more than 3 times the file's bytes (whole or ranged), nothing is served after
// the revocation was answered, a grant handed back goes only to its own network, the leak limit is
// exact, an object that cannot be reached never grants (503), and no answer is a 500.
import { env } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { seedVideo } from "../emulator/helpers";
import { appToken, callWorker, createShareLink, linkAuditCount, randomUser, shareLinkRow } from "../helpers";

const READY = { name: "Control", downloads: { default: "ready" } };
const ADMIN = "test-admin-token-one";

type Command =
  | { kind: "redeem"; network: number }
  | { kind: "fetch"; grant: number; network: number | "own"; ranged: boolean }
  | { kind: "revoke" }
  | { kind: "reinstate" };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("redeem" as const), network: fc.nat({ max: 4 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("fetch" as const),
      grant: fc.nat({ max: 3 }),
      // Mostly from the grant's own network, which is admitted: the harder case.
      network: fc.oneof({ weight: 3, arbitrary: fc.constant("own" as const) }, { weight: 1, arbitrary: fc.nat({ max: 4 }) }),
      ranged: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("revoke" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reinstate" as const) }) },
);
const scenario = fc.record({
  maxUses: fc.integer({ min: 1, max: 3 }),
  maxNetworks: fc.option(fc.integer({ min: 1, max: 2 }), { nil: null }),
  failRate: fc.constantFrom(0, 0, 0.2),
  rounds: fc.array(fc.array(command, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
});

/** IPv4 /24s: each is one network to the leak window and the grant's network check. */
const ipOf = (network: number) => `198.51.${100 + network}.7`;

/** The link objects' namespace, with each call failing before it reaches the object at `rate`. */
function flaky<T extends object>(namespace: DurableObjectNamespace<T & Rpc.DurableObjectBranded>, rate: number, failed: { count: number }): DurableObjectNamespace<T & Rpc.DurableObjectBranded> {
  return new Proxy(namespace, {
    get(real, prop) {
      const value = Reflect.get(real, prop, real) as unknown;
      if (prop !== "get") return typeof value === "function" ? (value as () => unknown).bind(real) : value;
      return (id: DurableObjectId) => {
        const stub = real.get(id);
        // An RPC stub answers every property with a callable: call it through the stub, by name.
        return new Proxy(stub, {
          get(target, method) {
            if (typeof method !== "string" || method === "then") return Reflect.get(target, method, target) as unknown;
            return (...args: unknown[]) => {
              if (Math.random() < rate) {
                failed.count += 1;
                return Promise.reject(new Error("injected: the object cannot be reached"));
              }
              return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
            };
          },
        });
      };
    },
  });
}

describe("share-link control under any sequence", () => {
  test("grants ≤ uses limit, uses = audit rows, ≤ 3 files' bytes per grant, nothing after revocation, exact leak limits, failing closed", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ maxUses, maxNetworks, failRate, rounds }) => {
        const { uid } = await seedVideo(READY);
        const creator = randomUser();
        const token = await appToken(creator, { videos: [uid] });
        const link = await createShareLink(uid, token, { delivery: "gateway", maxDownloads: maxUses, maxNetworks });
        const failed = { count: 0 };
        const testEnv: Env = { ...env, SHARE_LINKS: flaky(env.SHARE_LINKS, failRate, failed) };
        const call = (path: string, init: RequestInit & { token?: string } = {}) => callWorker(testEnv, path, init);

        const grants: Array<{ path: string; network: number }> = [];
        // Bytes each grant's URL delivered, whole or ranged, and the file's size once a fetch tells it.
        const delivered = new Map<string, number>();
        let fileSize: number | null = null;
        const grantedNetworks = new Set<number>();
        const statuses: number[] = [];
        let revokedBefore = false;
        let reinstated = false;
        let servedAfterRevocation = 0;
        let handedBackElsewhere = 0;

        for (const round of rounds) {
          // Revocations answered in an earlier round bind every request of this one.
          const revokedNow = revokedBefore;
          const answers = await Promise.all(
            round.map(async (c) => {
              switch (c.kind) {
                case "redeem": {
                  const res = await call(`/s/${link.secret}`, { method: "POST", headers: { "cf-connecting-ip": ipOf(c.network) } });
                  await res.arrayBuffer();
                  if (res.status === 303) {
                    const path = new URL(res.headers.get("location") ?? "").pathname;
                    // A grant handed back (a second POST from its network) is no new grant, and goes to no other network.
                    const given = grants.find((g) => g.path === path);
                    if (given !== undefined) handedBackElsewhere += given.network === c.network ? 0 : 1;
                    else grants.push({ path, network: c.network });
                    grantedNetworks.add(c.network);
                  }
                  return { c, status: res.status };
                }
                case "fetch": {
                  const grant = grants[c.grant % Math.max(1, grants.length)];
                  if (grant === undefined) return { c, status: 0 };
                  const network = c.network === "own" ? grant.network : c.network;
                  const res = await call(grant.path, { headers: { "cf-connecting-ip": ipOf(network), ...(c.ranged ? { range: "bytes=10-" } : {}) } });
                  const bytes = (await res.arrayBuffer()).byteLength;
                  if (res.status === 200) fileSize = bytes;
                  if (res.status === 200 || res.status === 206) delivered.set(grant.path, (delivered.get(grant.path) ?? 0) + bytes);
                  if ((res.status === 200 || res.status === 206) && revokedNow) servedAfterRevocation += 1;
                  if (res.status === 200 || res.status === 206) grantedNetworks.add(network);
                  return { c, status: res.status };
                }
                case "revoke": {
                  const res = await call(`/v1/admin/share-links/${link.id}`, { method: "DELETE", token: ADMIN });
                  return { c, status: res.status };
                }
                case "reinstate": {
                  const res = await call(`/v1/share-links/${link.id}/reinstate`, { method: "POST", token });
                  if (res.status === 200) reinstated = true;
                  await res.arrayBuffer();
                  return { c, status: res.status };
                }
              }
            }),
          );
          for (const { c, status } of answers) {
            statuses.push(status);
            if (c.kind === "revoke" && status === 204) revokedBefore = true;
          }
        }

        expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
        if (failRate === 0) expect(statuses.filter((s) => s === 503)).toEqual([]);
        expect(grants.length).toBeLessThanOrEqual(maxUses);
        expect({ uses: (await shareLinkRow(link.id)).uses, audit: await linkAuditCount(link.id) }).toEqual({ uses: grants.length, audit: grants.length });
        const size = fileSize;
        if (size !== null) expect([...delivered.values()].filter((bytes) => bytes > 3 * size)).toEqual([]);
        expect(servedAfterRevocation).toBe(0);
        expect(handedBackElsewhere).toBe(0);
        if (maxNetworks !== null && !reinstated) expect(grantedNetworks.size).toBeLessThanOrEqual(maxNetworks);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
