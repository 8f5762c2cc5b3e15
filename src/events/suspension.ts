// A suspension the link's object decided, on a use or on a grant URL's switch of network: the
// app hears of it (link.suspended) and the index shows it (the owner's list).
import { linkSuspended, type EventSink } from "./events";
import type { ShareLinkStore } from "../share-links/link-store";
import type { ShareLink } from "../share-links/store";
import { errorText } from "../problems";

export async function announceSuspension(d: { links: ShareLinkStore; events: EventSink; waitUntil(promise: Promise<unknown>): void }, link: ShareLink): Promise<void> {
  if (link.suspension === null) return;
  d.waitUntil(d.links.indexSuspension(link).catch((error: unknown) => console.error("share link: a suspension could not be indexed", errorText(error))));
  await d.events.notify(linkSuspended({ ...link, suspension: link.suspension }));
}
