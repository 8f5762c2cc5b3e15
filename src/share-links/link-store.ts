// Where share links live, behind one interface for the routes: each link's live state in its
// Durable Object (link-object.ts), the index in D1 (store.ts). A link's object is found from its
// URL's secret by a digest, so a use asks no database; the object takes the link over from D1 on
// its first use. The object failing fails closed: 503, never a grant.
import type { Db } from "../storage/d1";
import { failingClosed, errorText } from "../problems";
import { linkNames } from "./ids";
import type { GrantName, Guess, Handout, Opened, Redeemed, RedeemInput, ShareLinkObject } from "./link-object";
import {
  deleteLinksExpiredBefore,
  findBySecret,
  findForOwner,
  indexSuspension,
  indexUses,
  insertLink,
  liveLinksOf,
  listLinks,
  moveLegacyLinks,
  revokeLink,
  revokeLinksOf,
  type LinksOf,
  type RevokedLink,
  type ShareLink,
} from "./store";

export interface ShareLinkStore {
  /** Creates a link unless its creator has `maxActive` live ones; whether it was created. */
  create(link: ShareLink, maxActive: number): Promise<boolean>;
  /** The link a URL's secret names, as it stands now, or null. */
  bySecret(secret: string): Promise<ShareLink | null>;
  /** The link the owner API names (its public id, or an older app's kept secret), as the index has it. */
  forOwner(given: string): Promise<ShareLink | null>;
  list: typeof listLinks extends (db: Db, ...rest: infer A) => infer R ? (...rest: A) => R : never;
  /** Takes one use (link-object.ts › redeem). */
  redeem(link: ShareLink, input: Omit<RedeemInput, "windowMs">): Promise<Redeemed>;
  /** The link as its object holds it, and the grant a network would be handed back, taking nothing (link-object.ts › handedBack). */
  handedBack(link: string, network: string | null, until: number): Promise<{ link: ShareLink; handout: Handout | null } | null>;
  /** One attempt at the link's password from `network` (link-object.ts › guess); `passwordRight` exempts the network afterwards. */
  guess(link: ShareLink, network: string, now: number): Promise<Guess>;
  passwordRight(link: string, network: string, now: number): Promise<void>;
  /** A fetch of one of the link's grants (link-object.ts › open). */
  open(link: string, input: Omit<Parameters<ShareLinkObject["open"]>[0], "windowMs">): Promise<Opened>;
  stillLive(link: string): Promise<boolean>;
  /** The use's audit event is on its way: it leaves the link's outbox. */
  sent(link: string, eventId: string): Promise<void>;
  close(link: string, grant: GrantName, unsent: number): Promise<void>;
  /** Revokes a link (its object first, then the index); `creator` limits it to theirs. Whether it was live. */
  revoke(id: string, now: number, creator?: string): Promise<boolean>;
  /** Revokes every live link of a user, a video, or both: the links revoked. */
  revokeAll(by: LinksOf, now: number): Promise<RevokedLink[]>;
  /** Lifts a suspension: the link as reinstated, or null when it was not suspended. */
  reinstate(link: ShareLink, now: number): Promise<ShareLink | null>;
  /** Copies a suspension the link's object decided into the index. */
  indexSuspension(link: ShareLink): Promise<void>;
  /**
   * The statements that bring the index's use counts of these links up to date, written in the
   * audit batch's own transaction (app/queue.ts): each link's uses are its audit rows.
   */
  countUses(links: string[]): D1PreparedStatement[];
  /** Retention (the daily cron): deletes the links expired before `cutoff` and moves up to `moves` links from before public ids. */
  retain(cutoff: number, now: number, moves: number): Promise<{ deleted: number; moved: number }>;
}

/** How the index's window of past uses is read when an object takes a link over. */
async function usesInWindow(db: Db, id: string, since: number) {
  const rows = await db.prepare("SELECT at, network, country FROM audit_events WHERE link_id = ?1 AND at >= ?2").bind(id, since).all<{
    at: number;
    network: string | null;
    country: string | null;
  }>();
  return rows.results;
}

export function shareLinkStore(namespace: DurableObjectNamespace<ShareLinkObject>, db: Db, windowMs: number): ShareLinkStore {
  // A stub per call: one must not outlive the request that made it.
  const of = (id: string) => namespace.get(namespace.idFromName(id));
  // Closed, not open: a link whose object cannot answer grants nothing.
  const ask = failingClosed("share link object", "This link cannot be checked right now. Try again in a moment.", 1);
  /** Hands the link's object its D1 row, when the object has just said it holds none (`adopt` keeps what it holds). */
  async function handOver(link: ShareLink): Promise<ShareLink> {
    const window = await usesInWindow(db, link.id, Math.max(Date.now() - windowMs, link.reinstatedAt ?? 0));
    return (await ask(() => of(link.id).adopt(link, window))) as ShareLink;
  }
  /** The link's object, having taken the link over from D1 if it had not. */
  async function adopted(link: ShareLink): Promise<ShareLink> {
    const held = (await ask(() => of(link.id).read())) as ShareLink | null;
    return held ?? handOver(link);
  }
  const store: ShareLinkStore = {
    async create(link, maxActive) {
      return insertLink(db, link, (await linkNames(link.secret)).rowKey, maxActive);
    },
    async bySecret(secret) {
      const names = await linkNames(secret);
      const held = (await ask(() => of(names.publicId).read())) as ShareLink | null;
      if (held !== null) return held;
      const row = await findBySecret(db, names);
      return row === null ? null : handOver(row);
    },
    forOwner: (given) => findForOwner(db, given),
    list: (creator, page) => listLinks(db, creator, page),
    async redeem(link, input) {
      const redeem = () => ask(async () => (await of(link.id).redeem({ ...input, windowMs })) as Redeemed);
      const answer = await redeem();
      if (answer.kind !== "unknown") return answer;
      await handOver(link);
      return redeem();
    },
    handedBack: (link, network, until) => ask(async () => (await of(link).handedBack(network, until)) as { link: ShareLink; handout: Handout | null } | null),
    async guess(link, network, now) {
      await adopted(link);
      return ask(async () => (await of(link.id).guess(network, now)) as Guess);
    },
    async passwordRight(link, network, now) {
      await of(link)
        .passwordRight(network, now)
        .catch((error: unknown) => console.error("share link: a network that entered the password could not be remembered", errorText(error)));
    },
    open: (link, input) => ask(async () => (await of(link).open({ ...input, windowMs })) as Opened),
    stillLive: (link) => ask(() => of(link).stillLive()),
    async sent(link, eventId) {
      // Left in the outbox, the event is sent again by the object's alarm: one row all the same.
      await of(link)
        .sent(eventId)
        .catch((error: unknown) => console.error("share link: an outbox entry could not be cleared", errorText(error)));
    },
    async close(link, grant, unsent) {
      await of(link)
        .close(grant, unsent)
        .catch((error: unknown) => console.error("share link: a grant's unsent bytes could not be given back", errorText(error)));
    },
    async revoke(id, now, creator) {
      await ask(() => of(id).revoke(now));
      return revokeLink(db, id, now, creator);
    },
    async revokeAll(by, now) {
      // The objects first: once the index says revoked, a retry would find nothing left to push.
      const live = await liveLinksOf(db, by, now);
      await Promise.all(live.map((id) => ask(() => of(id).revoke(now))));
      return revokeLinksOf(db, by, now);
    },
    async reinstate(link, now) {
      // A link suspended before objects existed is taken over first, with its suspension.
      await adopted(link);
      const reinstated = (await ask(() => of(link.id).reinstate(now))) as ShareLink | null;
      // The index may say suspended while the object does not (the index is behind): it is set right either way.
      await indexSuspension(db, link.id, null, reinstated?.reinstatedAt ?? null);
      return reinstated;
    },
    indexSuspension: (link) => indexSuspension(db, link.id, link.suspension, null),
    countUses: (links) => (links.length === 0 ? [] : [indexUses(db, links)]),
    retain: async (cutoff, now, moves) => ({ deleted: await deleteLinksExpiredBefore(db, cutoff), moved: await moveLegacyLinks(db, now, moves) }),
  };
  return store;
}
