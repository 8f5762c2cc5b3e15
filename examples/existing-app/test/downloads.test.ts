// The gateway inside the shop: the shop's session says who, its purchases say what, and every
// URL the gateway hands out lives under /downloads. Videos are seeded in the Stream emulator.
import { describe, expect, test } from "vitest";
import { DELIVERY_BASE, seedVideo } from "../../../test/emulator/helpers";
import { addCustomer, buy, expectProblem, pageCsrfToken, refund, shop, signIn, type Customer } from "./helpers";

const readyVideo = async () => (await seedVideo({ requireSignedURLs: true, downloads: { default: "ready" } })).uid;

/** A signed-in customer who bought a video whose MP4 is ready at Stream. */
async function buyerOfReadyVideo(): Promise<{ uid: string; customer: Customer; session: string }> {
  const uid = await readyVideo();
  const customer = await addCustomer();
  await buy(customer, uid);
  return { uid, customer, session: await signIn(customer) };
}

/** A POST as the shop's page sends it to the gateway: the cookie rides along, `token` is the page's CSRF token (x-csrf-token). */
function postFromPage(path: string, session: string | undefined, token: string | undefined, body: unknown): Promise<Response> {
  return shop(path, {
    method: "POST",
    session,
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { "x-csrf-token": token }) },
    body: JSON.stringify(body),
  });
}

/** What the page's <stream-download> button asks for. */
const buttonRequest = (uid: string, session: string | undefined, token: string | undefined) =>
  postFromPage(`/downloads/v1/videos/${uid}/download-url`, session, token, { type: "default" });

const createLink = (uid: string, session: string, token: string | undefined) =>
  postFromPage(`/downloads/v1/videos/${uid}/share-links`, session, token, { type: "default", expiresIn: 3600, maxDownloads: 5 });

describe("downloads with the shop's session", () => {
  test("a purchased, ready video: 302 to Stream's URL with a signed token, and Stream serves the file", async () => {
    const { uid, session } = await buyerOfReadyVideo();

    const res = await shop(`/downloads/v1/videos/${uid}/download`, { session });
    expect(res.status).toBe(302);
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(new RegExp(`^${DELIVERY_BASE}/[\\w-]+\\.[\\w-]+\\.[\\w-]+/downloads/default\\.mp4\\?`));

    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("video/mp4");
    await file.arrayBuffer();
  });

  test("a video the customer did not buy: 403 not-entitled", async () => {
    const uid = await readyVideo();
    const session = await signIn(await addCustomer());
    await expectProblem(await shop(`/downloads/v1/videos/${uid}/download`, { session }), 403, "not-entitled");
  });

  test("nobody signed in or an unknown session: 401; a link followed from another site: 403", async () => {
    const { uid, session } = await buyerOfReadyVideo();

    await expectProblem(await shop(`/downloads/v1/videos/${uid}/download`), 401, "unauthenticated");
    await expectProblem(await shop(`/downloads/v1/videos/${uid}/download`, { session: "made-up" }), 401, "unauthenticated");
    const crossSite = await shop(`/downloads/v1/videos/${uid}/download`, { session, headers: { "sec-fetch-site": "cross-site" } });
    await expectProblem(crossSite, 403, "cross-site-request");
  });

  test("the button's POST needs the page's CSRF token with the cookie; either alone, or another session's token, is 401", async () => {
    const { uid, session } = await buyerOfReadyVideo();
    const token = await pageCsrfToken(session);
    const otherToken = await pageCsrfToken(await signIn(await addCustomer()));

    await expectProblem(await buttonRequest(uid, session, undefined), 401, "unauthenticated");
    await expectProblem(await buttonRequest(uid, undefined, token), 401, "unauthenticated");
    await expectProblem(await buttonRequest(uid, session, otherToken), 401, "unauthenticated");

    const res = await buttonRequest(uid, session, token);
    expect(res.status).toBe(200);
    const { url } = (await res.json()) as { url: string };
    expect(url.startsWith(`${DELIVERY_BASE}/`)).toBe(true);
  });
});

describe("share links made in the shop", () => {
  test("live under /downloads/s/, work for anyone, and answer 410 link-paused once the purchase is refunded", async () => {
    const { uid, customer, session } = await buyerOfReadyVideo();

    const created = await createLink(uid, session, await pageCsrfToken(session));
    expect(created.status).toBe(201);
    const { url } = (await created.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/shop\.test\/downloads\/s\/[\w-]{32}$/);
    const path = new URL(url).pathname;

    // Delivered through the gateway: the grant is the shop's own /downloads/d/ URL, which serves the file.
    const redeemed = await shop(path, { method: "POST" });
    expect(redeemed.status).toBe(303);
    const grant = new URL(redeemed.headers.get("location") ?? "");
    expect(grant.pathname.startsWith("/downloads/d/")).toBe(true);
    const file = await shop(grant.pathname);
    expect(file.status).toBe(200);
    await file.arrayBuffer();

    await refund(customer, uid);
    await expectProblem(await shop(path, { method: "POST" }), 410, "link-paused");
  });

  test("cannot be made with the session cookie alone (a forged cross-site request)", async () => {
    const { uid, session } = await buyerOfReadyVideo();
    await expectProblem(await createLink(uid, session, undefined), 401, "unauthenticated");
  });
});
