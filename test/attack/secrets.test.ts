// The gateway's secrets never leave it (docs/design.md): the Stream signing key (the JWK and
// its private fields), the Stream API token, the webhook secret, the app-token secret and the
// admin tokens appear in no response body or header and no log line, across a run of successful,
// failing and misconfigured requests. console.* is captured for the whole run; the run includes
// requests that are known to log (refused webhooks, a JWKS outage, an unexpected Stream answer,
// failed background work), so the capture is shown to see the gateway's logs.
import { env } from "cloudflare:test";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, expect, test, vi, type MockInstance } from "vitest";
import devAccount from "../../emulator/fixtures/dev-account.json";
import { api, injectFault, removeFaults, seedVideo, sleep } from "../emulator/helpers";
import { ADMIN_TOKEN, appToken, callWorker, createShareLink, envWith, gateway, randomUser, resetStreamBudget } from "../helpers";

const READY = { name: "Secret plans", downloads: { default: "ready", audio: "ready" } };
const BROWSER = "text/html,application/xhtml+xml";

/** Every secret the gateway holds, as configured for the tests. */
function secretsOf(e: Env): Record<string, string> {
  const jwk = JSON.parse(atob(e.STREAM_KEY_JWK)) as Record<string, string>;
  const secrets: Record<string, string> = {
    STREAM_KEY_JWK: e.STREAM_KEY_JWK,
    STREAM_API_TOKEN: e.STREAM_API_TOKEN,
    STREAM_WEBHOOK_SECRET: e.STREAM_WEBHOOK_SECRET,
    AUTH_HS256_SECRET: e.AUTH_HS256_SECRET,
    ADMIN_API_TOKEN: e.ADMIN_API_TOKEN,
    "signing key as PKCS#1 (the same key material)": devAccount.signingKey.pem,
  };
  for (const field of ["d", "p", "q", "dp", "dq", "qi"]) secrets[`STREAM_KEY_JWK.${field}`] = jwk[field] ?? "";
  e.ADMIN_API_TOKEN.split(",").forEach((token, i) => (secrets[`ADMIN_API_TOKEN[${i}]`] = token.trim()));
  return secrets;
}

/** Secret values that only the misconfigured envs below hold. */
const WRONG_API_TOKEN = "wrong-stream-api-token-7c1f0d2e9b8a";
const SHORT_HS256_SECRET = "short-hs256-secret-4e2a";
const OTHER_WEBHOOK_SECRET = "other-webhook-secret-51c0ffee9a7b3d2e";
const corruptJwk = (() => {
  const jwk = JSON.parse(atob(env.STREAM_KEY_JWK)) as Record<string, string>;
  // Not base64url at the end, so that importing it fails: a key that imported but could not sign
  // would fail inside OpenSSL, whose trace workerd prints whatever the test finds.
  return { ...jwk, d: `${jwk.d?.slice(0, -8)}AAAA!!!!`, p: `${jwk.p?.slice(0, -8)}BBBB****` };
})();
const { d: _d, ...publicOnlyJwk } = corruptJwk;

/**
 * The needles: each secret, its base64 and URL encodings, and 24-character windows of the long
 * ones. Not windows of STREAM_KEY_JWK as a whole: it also encodes the public parts (kid, n, e),
 * which every minted token carries; its private fields are windowed one by one instead.
 */
function needles(): [string, string][] {
  const secrets: Record<string, string> = {
    ...secretsOf(env),
    WRONG_API_TOKEN,
    SHORT_HS256_SECRET,
    OTHER_WEBHOOK_SECRET,
    "corrupt STREAM_KEY_JWK.d": corruptJwk.d ?? "",
    "corrupt STREAM_KEY_JWK.p": corruptJwk.p ?? "",
  };
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length < 12) throw new Error(`secret ${name} is too short to scan for`);
    const forms = new Set([value, btoa(value), encodeURIComponent(value), value.replace(/-/g, "+").replace(/_/g, "/")]);
    for (const form of forms) out.push([name, form]);
    if (name === "STREAM_KEY_JWK") continue;
    for (let i = 0; i + 24 <= value.length; i += 12) out.push([`${name}[${i}…${i + 24}]`, value.slice(i, i + 24)]);
  }
  return out;
}

let spies: MockInstance[] = [];
const logLines: string[] = [];
const seen: { what: string; text: string }[] = [];

/** A log argument as text, errors with their stack and cause, objects all the way down. */
function render(value: unknown, depth = 0): string {
  if (depth > 5) return "…";
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}\ncause: ${render(value.cause, depth + 1)}`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${render(v, depth + 1)}`)
      .join(", ")}}`;
  }
  return String(value);
}

beforeAll(() => {
  spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logLines.push(`${level}: ${args.map((a) => render(a)).join(" ")}`);
    }),
  );
});

afterAll(async () => {
  for (const spy of spies) spy.mockRestore();
  await removeFaults();
});

const inject = injectFault;

/** Keeps what a response shows: status line, every header, the body (bytes read as Latin-1 and as UTF-8). */
async function keep(what: string, pending: Promise<Response>): Promise<Response> {
  const res = await pending;
  const bytes = new Uint8Array(await res.arrayBuffer());
  const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  const latin1 = Array.from(bytes, (b) => String.fromCharCode(b)).join("");
  seen.push({ what: `${what} → ${res.status}`, text: `${headers}\n${latin1}\n${new TextDecoder().decode(bytes)}` });
  return new Response([101, 204, 205, 304].includes(res.status) ? null : bytes, { status: res.status, headers: res.headers });
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function signedHook(body: string, secret = env.STREAM_WEBHOOK_SECRET, time = Math.floor(Date.now() / 1000)): Promise<RequestInit> {
  return {
    method: "POST",
    headers: { "content-type": "application/json", "webhook-signature": `time=${time},sig1=${await hmacHex(secret, `${time}.${body}`)}` },
    body,
  };
}

async function videoBody(uid: string): Promise<string> {
  return JSON.stringify((await api<Record<string, unknown>>(`/${uid}`)).body.result);
}

const json = (body: unknown): RequestInit => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Successful requests on every route, as the app, its users, visitors, admins and Stream make them. */
async function successes(): Promise<void> {
  const { uid } = await seedVideo(READY);
  const user = randomUser();
  const token = await appToken(user, { videos: [uid] });
  await keep("download", gateway(`/v1/videos/${uid}/download?filename=Plans`, { token }));
  await keep("download stream", gateway(`/v1/videos/${uid}/download?mode=stream&type=audio`, { token }));
  await keep("download-url", gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token }));
  await keep("status", gateway(`/v1/videos/${uid}/downloads`, { token }));
  await keep("status by cookie", gateway(`/v1/videos/${uid}/downloads`, { headers: { cookie: `sdg_session=${token}` } }));
  const link = await createShareLink(uid, token, { maxDownloads: 5, password: "open sesame", note: "for the agency" });
  await keep("list links", gateway("/v1/share-links", { token }));
  await keep("landing", gateway(`/s/${link.secret}`));
  await keep("landing html", gateway(`/s/${link.secret}`, { headers: { accept: BROWSER } }));
  await keep("share download", gateway(`/s/${link.secret}?mode=redirect`, { method: "POST", ...json({ password: "open sesame" }) }));
  await keep("share stream", gateway(`/s/${link.secret}?mode=stream`, { method: "POST", ...json({ password: "open sesame" }) }));
  await keep("revoke link", gateway(`/v1/share-links/${link.id}`, { method: "DELETE", token }));
  await keep("grants put", gateway("/v1/admin/grants", { method: "PUT", token: ADMIN_TOKEN, ...json({ grants: [{ user, video: uid }] }) }));
  await keep("grants get", gateway(`/v1/admin/grants?user=${user}`, { token: ADMIN_TOKEN }));
  await keep("grants delete", gateway("/v1/admin/grants", { method: "DELETE", token: ADMIN_TOKEN, ...json({ grants: [{ user, video: uid }] }) }));
  await keep("audit", gateway(`/v1/admin/audit?video=${uid}`, { token: ADMIN_TOKEN }));
  await keep("refresh", gateway(`/v1/admin/videos/${uid}/refresh`, { method: "POST", token: ADMIN_TOKEN }));
  await keep("webhook", gateway("/webhooks/stream", await signedHook(await videoBody(uid))));
  await keep("healthz", gateway("/healthz"));
  await keep("openapi", gateway("/openapi.json"));
  const other = await createShareLink(uid, token);
  await keep("admin revoke", gateway(`/v1/admin/share-links/${other.id}`, { method: "DELETE", token: ADMIN_TOKEN }));
  await keep("admin revoke all", gateway("/v1/admin/share-links/revoke", { method: "POST", token: ADMIN_TOKEN, ...json({ user }) }));
  await keep("block", gateway(`/v1/admin/videos/${uid}/block`, { method: "POST", token: ADMIN_TOKEN, ...json({ reason: "leak drill" }) }));
  await keep("unblock", gateway(`/v1/admin/videos/${uid}/unblock`, { method: "POST", token: ADMIN_TOKEN }));
}

/** Refusals of every kind: authentication, validation, entitlement, links, webhooks. */
async function refusals(): Promise<void> {
  const { uid } = await seedVideo(READY);
  const token = await appToken(randomUser(), { videos: [uid] });
  const link = await createShareLink(uid, token, { password: "open sesame" });
  const html = { accept: BROWSER };
  for (const headers of [{}, html]) {
    await keep("no token", gateway(`/v1/videos/${uid}/download`, { headers }));
    await keep("bad token", gateway(`/v1/videos/${uid}/download`, { headers: { ...headers, authorization: "Bearer a.b.c" } }));
    await keep("wrong secret", gateway(`/v1/videos/${uid}/download`, { headers, token: `${token.slice(0, -4)}AAAA` }));
    await keep("cookie post", gateway(`/v1/videos/${uid}/download-url`, { method: "POST", headers: { ...headers, cookie: `sdg_session=${token}` } }));
    await keep("admin wrong", gateway("/v1/admin/grants", { headers, token: "test-admin-token" }));
    await keep("admin user token", gateway("/v1/admin/audit", { headers, token }));
    await keep("bad uid", gateway("/v1/videos/..%2Fkeys/download", { headers, token }));
    await keep("bad query", gateway(`/v1/videos/${uid}/download?type=zzz&mode=qq`, { headers, token }));
    await keep("bad body", gateway(`/v1/videos/${uid}/download-url`, { method: "POST", token, headers: { ...headers, "content-type": "application/json" }, body: "{" }));
    await keep("not entitled", gateway(`/v1/videos/${uid}/download`, { headers, token: await appToken(randomUser()) }));
    await keep("unknown route", gateway("/v1/keys", { headers, token }));
    await keep("no password", gateway(`/s/${link.secret}?mode=redirect`, { method: "POST", headers }));
    await keep("wrong password", gateway(`/s/${link.secret}?mode=redirect`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ password: "nope" }) }));
    await keep("unknown link", gateway(`/s/${"A".repeat(32)}`, { headers }));
  }
  const body = await videoBody(uid);
  const now = Math.floor(Date.now() / 1000);
  await keep("webhook unsigned", gateway("/webhooks/stream", { method: "POST", ...json(JSON.parse(body)) }));
  await keep("webhook wrong secret", gateway("/webhooks/stream", await signedHook(body, OTHER_WEBHOOK_SECRET)));
  await keep("webhook stale", gateway("/webhooks/stream", await signedHook(body, env.STREAM_WEBHOOK_SECRET, now - 3600)));
  await keep("webhook malformed", gateway("/webhooks/stream", { method: "POST", headers: { "webhook-signature": "time=x,sig1=zz" }, body }));
  await keep("webhook garbage", gateway("/webhooks/stream", await signedHook("{not json")));
}

/** Stream misbehaving: refusing the API token, answering unexpectedly, failing, stalling; the JWKS down. */
async function streamFailures(): Promise<void> {
  const token = await appToken(randomUser(), { videos: "*" });
  for (const fault of [
    { operation: "videos.get", status: 401, code: 10000, message: "Authentication error" },
    { operation: "videos.get", status: 403, code: 10000, message: "Authentication error" },
    { operation: "videos.get", status: 400, code: 99999, message: "Something Stream never says" },
    { operation: "*", status: 500 },
    { operation: "*", latencyMs: 800 },
  ]) {
    const { uid } = await seedVideo({ downloads: {} });
    await inject({ ...fault, video: uid });
    await keep(`stream ${JSON.stringify(fault)}`, gateway(`/v1/videos/${uid}/download`, { token }));
    await keep(`stream ${JSON.stringify(fault)} html`, gateway(`/v1/videos/${uid}/downloads`, { token, headers: { accept: BROWSER } }));
  }
  const { uid } = await seedVideo(READY);
  await keep("warm", gateway(`/v1/videos/${uid}/download`, { token }));
  await inject({ operation: "delivery", video: uid, status: 500 });
  await keep("delivery 500", gateway(`/v1/videos/${uid}/download?mode=stream`, { token }));
  await removeFaults();
  // Stream is back: the breaker the outages opened closes, so the background work below meets
  // Stream's refusals, not the breaker.
  await resetStreamBudget();

  // Background work that fails: revalidating a stale ready state, preparing downloads for a webhook.
  const stale = envWith({ READY_TTL_SECONDS: "1", MEMORY_CACHE_SECONDS: "0", POLL_INTERVAL_SECONDS: "1" });
  const { uid: aging } = await seedVideo(READY);
  await keep("fresh", callWorker(stale, `/v1/videos/${aging}/download`, { token }));
  await sleep(1100);
  await inject({ operation: "*", video: aging, status: 401, code: 10000, message: "Authentication error" });
  await keep("stale, revalidation refused", callWorker(stale, `/v1/videos/${aging}/download`, { token }));
  const { uid: fresh } = await seedVideo({});
  await inject({ operation: "downloads.create", video: fresh, status: 403, code: 10000, message: "Authentication error" });
  await keep("webhook prepare refused", callWorker(envWith({ PREPARE_DOWNLOADS: "default" }), "/webhooks/stream", await signedHook(await videoBody(fresh))));
  await removeFaults();

  const jwksDown = envWith({ AUTH_HS256_SECRET: "", AUTH_JWKS_URL: "https://idp-down.example/no/jwks/here" });
  const { privateKey } = await generateKeyPair("RS256");
  const rs256 = await new SignJWT({ videos: "*" }).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject(randomUser()).setExpirationTime("5m").sign(privateKey);
  await keep("jwks down", callWorker(jwksDown, `/v1/videos/${uid}/download`, { token: rs256 }));
}

/** Gateways with a broken setting each, called on a spread of routes. */
async function misconfigurations(): Promise<void> {
  const { uid } = await seedVideo(READY);
  const token = await appToken(randomUser(), { videos: "*" });
  const envs: Record<string, Record<string, string>> = {
    "STREAM_KEY_JWK not base64": { STREAM_KEY_JWK: `${env.STREAM_KEY_JWK.slice(0, 40)}!!` },
    "STREAM_KEY_JWK without d": { STREAM_KEY_JWK: btoa(JSON.stringify(publicOnlyJwk)) },
    "STREAM_KEY_JWK corrupt": { STREAM_KEY_JWK: btoa(JSON.stringify(corruptJwk)) },
    "STREAM_KEY_ID mismatch": { STREAM_KEY_ID: "0".repeat(32) },
    "STREAM_API_TOKEN wrong": { STREAM_API_TOKEN: WRONG_API_TOKEN },
    "STREAM_API_TOKEN empty": { STREAM_API_TOKEN: "" },
    "STREAM_ACCOUNT_ID bad": { STREAM_ACCOUNT_ID: "not-an-account" },
    "AUTH_HS256_SECRET short": { AUTH_HS256_SECRET: SHORT_HS256_SECRET },
    "two auth sources": { AUTH_JWKS_URL: "https://idp.example/jwks" },
    "STREAM_WEBHOOK_SECRET other": { STREAM_WEBHOOK_SECRET: OTHER_WEBHOOK_SECRET },
    "CORS_ORIGINS bad": { CORS_ORIGINS: "app.example" },
    "STREAM_DELIVERY_BASE bad": { STREAM_DELIVERY_BASE: "http://evil.example/path" },
  };
  const hook = await signedHook(await videoBody(uid));
  for (const [name, overrides] of Object.entries(envs)) {
    const broken = envWith(overrides);
    const { uid: untouched } = await seedVideo(READY);
    await keep(`${name}: download`, callWorker(broken, `/v1/videos/${untouched}/download`, { token }));
    await keep(`${name}: stream`, callWorker(broken, `/v1/videos/${untouched}/download?mode=stream`, { token, headers: { accept: BROWSER } }));
    await keep(`${name}: download-url`, callWorker(broken, `/v1/videos/${untouched}/download-url`, { method: "POST", token }));
    await keep(`${name}: admin`, callWorker(broken, "/v1/admin/grants", { token: ADMIN_TOKEN }));
    await keep(`${name}: webhook`, callWorker(broken, "/webhooks/stream", hook));
    await keep(`${name}: landing`, callWorker(broken, `/s/${"A".repeat(32)}`));
    await keep(`${name}: preflight`, callWorker(broken, "/v1/share-links", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "GET" } }));
  }
}

test("no secret appears in any response header or body, or in any log line, across successes, refusals, Stream failures and misconfigurations", async () => {
  await successes();
  await refusals();
  await streamFailures();
  await misconfigurations();

  // The capture saw the gateway's own log lines, so an empty scan means something.
  const logText = logLines.join("\n");
  for (const expected of [
    "webhook refused",
    "Stream answered 400",
    "identifyUser: token verification failed",
    "revalidating download state failed",
    "preparing download failed",
  ]) {
    expect(logText, `log lines captured:\n${logText.slice(0, 2000)}`).toContain(expected);
  }
  expect(seen.length).toBeGreaterThan(150);
  expect(seen.filter((s) => s.what.endsWith("→ 500")).length).toBeGreaterThan(10);

  const leaks: string[] = [];
  for (const [name, needle] of needles()) {
    for (const { what, text } of seen) if (text.includes(needle)) leaks.push(`response ${what}: ${name}`);
    for (const line of logLines) if (line.includes(needle)) leaks.push(`log line: ${name}: ${line.slice(0, 300)}`);
  }
  expect([...new Set(leaks)]).toEqual([]);
}, 60_000);
