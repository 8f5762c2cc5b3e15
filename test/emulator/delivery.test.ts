// Contract tests for the emulator's delivery host (docs/stream-behaviour.md §1 and §3): signed-URL tokens,
// accessRules, the downloadable claim, 424 for errored videos, Range and ?filename=.
import { importJWK, SignJWT, type JWTPayload } from "jose";
import { beforeAll, describe, expect, test } from "vitest";
import devAccount from "../../emulator/fixtures/dev-account.json";
import { api, control, counters, DELIVERY_BASE, seedVideo } from "./helpers";

interface Signer {
  kid: string;
  key: CryptoKey;
}

interface CreatedKey {
  id: string;
  jwk: string;
}

let signer: Signer;

const READY = { downloads: { default: "ready", audio: "ready" } };

const nowSeconds = () => Math.floor(Date.now() / 1000);
const randomUid = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");

function base64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function createKey(): Promise<CreatedKey> {
  const { status, body } = await api<CreatedKey>("/keys", { method: "POST" });
  expect(status).toBe(200);
  return body.result;
}

/** Stream hands out the private JWK base64-encoded (docs/stream-behaviour.md §3). */
async function signerFrom(id: string, base64Jwk: string): Promise<Signer> {
  const key = await importJWK(JSON.parse(atob(base64Jwk)), "RS256");
  if (!(key instanceof CryptoKey)) throw new Error("expected an RSA CryptoKey");
  return { kid: id, key };
}

/** The claims of a good download token; an override of `undefined` drops the claim. */
function claimsFor(uid: string, overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  const claims: Record<string, unknown> = { sub: uid, kid: signer.kid, exp: now + 3600, nbf: now - 60, downloadable: true, ...overrides };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

function mint(claims: JWTPayload, by: Signer = signer, kid: string = by.kid): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).sign(by.key);
}

function tokenFor(uid: string, overrides: Record<string, unknown> = {}): Promise<string> {
  return mint(claimsFor(uid, overrides));
}

function download(id: string, file = "default.mp4", init: RequestInit & { query?: string } = {}): Promise<Response> {
  const { query, ...rest } = init;
  return fetch(`${DELIVERY_BASE}/${id}/downloads/${file}${query ?? ""}`, rest);
}

async function expectRefused(res: Response, status: number, reason: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(await res.text()).toMatch(reason);
}

function startsWithFtyp(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.slice(4, 8)) === "ftyp";
}

async function fullBody(uid: string, file = "default.mp4"): Promise<Uint8Array> {
  const res = await download(await tokenFor(uid), file);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

beforeAll(async () => {
  const key = await createKey();
  signer = await signerFrom(key.id, key.jwk);
});

describe("a valid token", () => {
  test("serves the MP4 with its type, byte ranges and a length that matches the body", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(await tokenFor(uid));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(startsWithFtyp(bytes)).toBe(true);
    expect(bytes.length).toBe(Number(res.headers.get("content-length")));
  });

  test("serves the M4A as audio/mp4, an ISO BMFF file too", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(await tokenFor(uid), "audio.m4a");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mp4");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(startsWithFtyp(bytes)).toBe(true);
    expect(bytes.length).toBe(Number(res.headers.get("content-length")));
  });

  test("HEAD answers the same headers as GET with an empty body", async () => {
    const { uid } = await seedVideo(READY);
    const token = await tokenFor(uid);
    const get = await download(token);
    const size = (await get.arrayBuffer()).byteLength;
    const head = await download(token, "default.mp4", { method: "HEAD" });
    expect(head.status).toBe(200);
    for (const name of ["content-type", "accept-ranges", "etag"]) {
      expect(head.headers.get(name)).toBe(get.headers.get(name));
    }
    expect(head.headers.get("content-length")).toBe(String(size));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  test("the dev fixture key, registered on a fresh emulator, signs tokens the host accepts", async () => {
    const { uid } = await seedVideo(READY);
    const dev = await signerFrom(devAccount.signingKey.id, devAccount.signingKey.jwk);
    const res = await download(await mint(claimsFor(uid, { kid: dev.kid }), dev));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe("tokens the host refuses", () => {
  test("a token whose signature was tampered with answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const [header, payload, signature = ""] = (await tokenFor(uid)).split(".");
    // A character in the middle, so that the flip changes real signature bits, not padding.
    const i = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, i) + (signature[i] === "A" ? "B" : "A") + signature.slice(i + 1);
    await expectRefused(await download(`${header}.${payload}.${flipped}`), 401, /signature is invalid/);
  });

  test("a token signed by a key the emulator never registered answers 401 even with a known kid", async () => {
    const { uid } = await seedVideo(READY);
    const pair = await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    if (!("privateKey" in pair)) throw new Error("expected a key pair");
    const stranger = { kid: signer.kid, key: pair.privateKey };
    await expectRefused(await download(await mint(claimsFor(uid), stranger)), 401, /signature is invalid/);
  });

  test("a token whose kid names no key of the account answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const kid = randomUid();
    const token = await mint(claimsFor(uid, { kid }), signer, kid);
    await expectRefused(await download(token), 401, /kid names no signing key/);
  });

  test("a token signed by a revoked key answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const created = await createKey();
    const revocable = await signerFrom(created.id, created.jwk);
    const token = await mint(claimsFor(uid, { kid: revocable.kid }), revocable);
    const before = await download(token);
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    const { status, body } = await api<string>(`/keys/${created.id}`, { method: "DELETE" });
    expect(status).toBe(200);
    expect(body.result).toBe("Revoked");
    await expectRefused(await download(token), 401, /revoked/);
  });

  test("a token whose sub names no video of the account answers 401", async () => {
    await seedVideo(READY);
    await expectRefused(await download(await tokenFor(randomUid())), 401, /sub names no video/);
  });

  test("a token without sub answers 401", async () => {
    const { uid } = await seedVideo(READY);
    await expectRefused(await download(await tokenFor(uid, { sub: undefined })), 401, /sub/);
  });

  test("an expired token answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const now = nowSeconds();
    const token = await tokenFor(uid, { exp: now - 60, nbf: now - 3600 });
    await expectRefused(await download(token), 401, /expired/);
  });

  test("a token whose exp is more than 24 hours ahead answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const token = await tokenFor(uid, { exp: nowSeconds() + 25 * 3600 });
    await expectRefused(await download(token), 401, /more than 24 hours/);
  });

  test("a token that is not valid yet (nbf in the future) answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const token = await tokenFor(uid, { nbf: nowSeconds() + 600 });
    await expectRefused(await download(token), 401, /not valid yet/);
  });

  test("an HS256 token answers 401 even when its kid is a real key", async () => {
    const { uid } = await seedVideo(READY);
    const secret = new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!!");
    const token = await new SignJWT(claimsFor(uid)).setProtectedHeader({ alg: "HS256", kid: signer.kid }).sign(secret);
    await expectRefused(await download(token), 401, /RS256/);
  });

  test("an unsigned alg:none token answers 401", async () => {
    const { uid } = await seedVideo(READY);
    const header = base64url(JSON.stringify({ alg: "none", kid: signer.kid }));
    const payload = base64url(JSON.stringify(claimsFor(uid)));
    await expectRefused(await download(`${header}.${payload}.`), 401, /RS256/);
  });

  test("a garbage string where the token belongs answers 401", async () => {
    await expectRefused(await download("this-is-not-a-token"), 401, /not a JWT/);
  });

  test("a valid token without the downloadable claim answers 403", async () => {
    const { uid } = await seedVideo(READY);
    await expectRefused(await download(await tokenFor(uid, { downloadable: undefined })), 403, /downloadable/);
  });

  test("a valid token with downloadable: false answers 403", async () => {
    const { uid } = await seedVideo(READY);
    await expectRefused(await download(await tokenFor(uid, { downloadable: false })), 403, /downloadable/);
  });
});

// The client's address reaches the emulator only if miniflare's outbound interceptor keeps
// CF-Connecting-IP, which it strips unless the test Worker sets `stripCfConnectingIp: false`.
describe("accessRules in the token", () => {
  const from = (ip: string, country?: string): RequestInit => ({
    headers: country === undefined ? { "cf-connecting-ip": ip } : { "cf-connecting-ip": ip, "cf-ipcountry": country },
  });

  async function withRules(accessRules: unknown[]): Promise<(init: RequestInit) => Promise<Response>> {
    const { uid } = await seedVideo(READY);
    const token = await tokenFor(uid, { accessRules });
    return (init) => download(token, "default.mp4", init);
  }

  async function expectServed(res: Response): Promise<void> {
    expect(res.status).toBe(200);
    expect(startsWithFtyp(new Uint8Array(await res.arrayBuffer()))).toBe(true);
  }

  test("allow GB then block any lets a GB client in and keeps a US client out", async () => {
    const fetchFrom = await withRules([
      { type: "ip.geoip.country", action: "allow", country: ["GB"] },
      { type: "any", action: "block" },
    ]);
    await expectServed(await fetchFrom(from("192.0.2.10", "GB")));
    await expectRefused(await fetchFrom(from("192.0.2.10", "US")), 403, /access rule 1/);
  });

  test("allow one IPv4 host then block any admits only that host, and no IPv6 client", async () => {
    const fetchFrom = await withRules([
      { type: "ip.src", action: "allow", ip: ["203.0.113.7/32"] },
      { type: "any", action: "block" },
    ]);
    await expectServed(await fetchFrom(from("203.0.113.7")));
    await expectRefused(await fetchFrom(from("198.51.100.1")), 403, /access rule 1/);
    await expectRefused(await fetchFrom(from("2001:db8::7")), 403, /access rule 1/);
  });

  test("an IPv6 /64 rule admits addresses inside the prefix and not those outside", async () => {
    const fetchFrom = await withRules([
      { type: "ip.src", action: "allow", ip: ["2001:db8:abcd:12::/64"] },
      { type: "any", action: "block" },
    ]);
    await expectServed(await fetchFrom(from("2001:db8:abcd:12:ffff:1:2:3")));
    await expectRefused(await fetchFrom(from("2001:db8:abcd:13::1")), 403, /access rule 1/);
  });

  test("the first matching rule wins: block US then allow any keeps US out and lets FR in", async () => {
    const fetchFrom = await withRules([
      { type: "ip.geoip.country", action: "block", country: ["US"] },
      { type: "any", action: "allow" },
    ]);
    await expectRefused(await fetchFrom(from("198.51.100.1", "US")), 403, /access rule 0/);
    await expectServed(await fetchFrom(from("198.51.100.1", "FR")));
  });

  test("a token whose rules match nothing is valid", async () => {
    const fetchFrom = await withRules([
      { type: "ip.src", action: "block", ip: ["192.0.2.0/24", "2001:db8::/32"] },
      { type: "ip.geoip.country", action: "block", country: ["US", "CA"] },
    ]);
    await expectServed(await fetchFrom(from("198.51.100.1", "FR")));
  });

  test("a token with more than 5 rules is invalid and answers 401", async () => {
    const allowAny = { type: "any", action: "allow" };
    const fetchFrom = await withRules(Array.from({ length: 6 }, () => allowAny));
    await expectRefused(await fetchFrom(from("198.51.100.1", "FR")), 401, /at most 5/);
  });
});

describe("URLs by video UID", () => {
  test("a video that requires signed URLs answers 401 to its plain UID", async () => {
    const { uid } = await seedVideo(READY);
    await expectRefused(await download(uid), 401, /requires a signed URL/);
  });

  test("a public video is served by its UID", async () => {
    const { uid } = await seedVideo({ ...READY, requireSignedURLs: false });
    const res = await download(uid);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(startsWithFtyp(new Uint8Array(await res.arrayBuffer()))).toBe(true);
  });

  test("an unknown UID answers 404", async () => {
    await expectRefused(await download(randomUid()), 404, /no such video/);
  });
});

describe("videos and downloads that cannot be served", () => {
  test("a video seeded in the error state answers 424", async () => {
    const { uid } = await seedVideo({ ...READY, state: "error" });
    await expectRefused(await download(await tokenFor(uid)), 424, /failed to process/);
  });

  test("a video that errors after its downloads were created answers 424", async () => {
    const { uid } = await seedVideo(READY);
    const token = await tokenFor(uid);
    const before = await download(token);
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    await control("POST", `/videos/${uid}/state`, { state: "error" });
    await expectRefused(await download(token), 424, /failed to process/);
  });

  test("a download type that was never enabled answers 404", async () => {
    const { uid } = await seedVideo({ downloads: { default: "ready" } });
    await expectRefused(await download(await tokenFor(uid), "audio.m4a"), 404, /audio download has not been enabled/);
  });

  test("a live recording still in progress (live-inprogress) is not ready: its downloads answer 404", async () => {
    const { uid } = await seedVideo({ ...READY, state: "live-inprogress" });
    await expectRefused(await download(await tokenFor(uid)), 404, /not ready to stream/);
  });

  test("a download still in progress answers 404", async () => {
    const { uid } = await seedVideo({ downloads: { default: "inprogress" }, downloadSeconds: 60 });
    await expectRefused(await download(await tokenFor(uid)), 404, /default download is not ready/);
  });
});

describe("thumbnails", () => {
  const thumbnail = (id: string, query = "") => fetch(`${DELIVERY_BASE}/${id}/thumbnails/thumbnail.jpg${query}`);

  test("a ready video's poster frame is a JPEG at Stream's defaults: 640×640, cropped, from 0 s", async () => {
    const { uid } = await seedVideo({ requireSignedURLs: false });
    const res = await thumbnail(uid);
    expect({ status: res.status, type: res.headers.get("content-type"), made: res.headers.get("x-emulator-thumbnail") }).toEqual({
      status: 200,
      type: "image/jpeg",
      made: "time=0s width=640 height=640 fit=crop",
    });
    expect([...new Uint8Array(await res.arrayBuffer()).slice(0, 2)]).toEqual([0xff, 0xd8]);
  });

  test("time, width, height and fit are read from the query, through a token too", async () => {
    const { uid } = await seedVideo();
    const res = await thumbnail(await tokenFor(uid, { downloadable: undefined }), "?time=5m2s&width=640&height=360&fit=clip");
    expect({ status: res.status, made: res.headers.get("x-emulator-thumbnail") }).toEqual({
      status: 200,
      made: "time=5m2s width=640 height=360 fit=clip",
    });
    await res.arrayBuffer();
  });

  test.each([
    ["width=0", /^width must be a whole number of pixels from 1 to 10000/],
    ["width=abc", /^width must be/],
    ["height=-5", /^height must be/],
    ["height=10001", /^height must be/],
    ["width=12.5", /^width must be/],
    ["fit=stretch", /^fit must be one of crop, clip, scale, fill/],
    ["time=soon", /^time must be a time such as 1s, 8m or 5m2s/],
    ["time=5", /^time must be/],
  ])("?%s answers 400", async (query, reason) => {
    const { uid } = await seedVideo({ requireSignedURLs: false });
    await expectRefused(await thumbnail(uid, `?${query}`), 400, reason);
  });

  test("an errored video's thumbnail answers 424 (Stream's changelog, 2024-06-11); one still processing 404", async () => {
    const errored = await seedVideo({ requireSignedURLs: false, state: "error" });
    await expectRefused(await thumbnail(errored.uid), 424, /failed to process/);
    const processing = await seedVideo({ requireSignedURLs: false, state: "queued", processingSeconds: 600 });
    await expectRefused(await thumbnail(processing.uid), 404, /no thumbnail until it is ready/);
  });
});

describe("Range requests", () => {
  test("bytes=0-99 answers 206 with the first 100 bytes of the file", async () => {
    const { uid } = await seedVideo(READY);
    const full = await fullBody(uid);
    const res = await download(await tokenFor(uid), "default.mp4", { headers: { range: "bytes=0-99" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-99/${full.length}`);
    expect(res.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(full.slice(0, 100));
  });

  test("bytes=-10 answers 206 with the last 10 bytes", async () => {
    const { uid } = await seedVideo(READY);
    const full = await fullBody(uid);
    const res = await download(await tokenFor(uid), "default.mp4", { headers: { range: "bytes=-10" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${full.length - 10}-${full.length - 1}/${full.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(full.slice(-10));
  });

  test("a range starting at the file size answers 416 with the size in content-range", async () => {
    const { uid } = await seedVideo(READY);
    const full = await fullBody(uid);
    const res = await download(await tokenFor(uid), "default.mp4", { headers: { range: `bytes=${full.length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${full.length}`);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  test("If-Range with the current ETag honours the range", async () => {
    const { uid } = await seedVideo(READY);
    const token = await tokenFor(uid);
    const first = await download(token);
    const etag = first.headers.get("etag");
    await first.arrayBuffer();
    expect(etag).toBeTruthy();
    const res = await download(token, "default.mp4", { headers: { range: "bytes=0-99", "if-range": etag ?? "" } });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(100);
  });

  test("If-Range with another ETag answers 200 with the whole file", async () => {
    const { uid } = await seedVideo(READY);
    const full = await fullBody(uid);
    const res = await download(await tokenFor(uid), "default.mp4", {
      headers: { range: "bytes=0-99", "if-range": '"some-older-version"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-range")).toBeNull();
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(full);
  });
});

describe("?filename=", () => {
  async function withFilename(filename: string, file = "default.mp4"): Promise<Response> {
    const { uid } = await seedVideo(READY);
    return download(await tokenFor(uid), file, { query: `?filename=${encodeURIComponent(filename)}` });
  }

  test("a valid name becomes an attachment with .mp4 appended", async () => {
    const res = await withFilename("My_Video-1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="My_Video-1.mp4"');
    await res.arrayBuffer();
  });

  test("the audio download appends .m4a", async () => {
    const res = await withFilename("My_Video-1", "audio.m4a");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="My_Video-1.m4a"');
    await res.arrayBuffer();
  });

  test("Stream's own documented example MY_VIDEO.mp4 keeps a single extension", async () => {
    const res = await withFilename("MY_VIDEO.mp4");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="MY_VIDEO.mp4"');
    await res.arrayBuffer();
  });

  test("120 characters are accepted", async () => {
    const name = "a".repeat(120);
    const res = await withFilename(name);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${name}.mp4"`);
    await res.arrayBuffer();
  });

  test("a name with a space answers 400", async () => {
    await expectRefused(await withFilename("bad name"), 400, /filename/);
  });

  test("a name of 121 characters answers 400", async () => {
    await expectRefused(await withFilename("a".repeat(121)), 400, /filename/);
  });

  test("no filename means no content-disposition", async () => {
    const { uid } = await seedVideo(READY);
    const res = await download(await tokenFor(uid));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBeNull();
    await res.arrayBuffer();
  });
});

describe("delivery counters", () => {
  test("count each successful verification of the video and nothing that was refused", async () => {
    const { uid } = await seedVideo(READY);
    expect((await counters(uid)).delivery).toBe(0);

    const served = await download(await tokenFor(uid));
    expect(served.status).toBe(200);
    await served.arrayBuffer();
    const head = await download(await tokenFor(uid), "default.mp4", { method: "HEAD" });
    expect(head.status).toBe(200);
    // A HEAD is counted apart: the gateway proves with it that it never fetched a body.
    expect((await counters(uid)).delivery).toBe(1);
    expect((await counters(uid)).byOperation["delivery.head"]).toBe(1);

    const refused = [
      await download(uid),
      await download(await tokenFor(uid, { downloadable: false })),
      await download(await tokenFor(uid, { exp: nowSeconds() - 60 })),
      await download(await tokenFor(uid, { accessRules: [{ type: "any", action: "block" }] })),
    ];
    for (const res of refused) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      await res.arrayBuffer();
    }
    const after = await counters(uid);
    expect(after.delivery).toBe(1);
    expect(after.api).toBe(0);
  });
});
