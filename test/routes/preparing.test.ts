// While Stream prepares a file, what each kind of client is told (docs/http-api.md › Errors,
// `download-preparing`): a command-line client that asks for neither JSON nor HTML must never get
// a success status with something that is not the file (`curl -fL -o x.mp4` would save it), so it
// gets 503 with Retry-After, which `curl --retry` waits out; JSON clients (the button helper) get
// the 202 with the progress; browsers the 202 page.
import { SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { control, counters, seedVideo, sleep } from "../emulator/helpers";
import { appToken, createShareLink, expectProblem, GATEWAY, gateway, linkAuditCount, randomUser, shareLinkRow } from "../helpers";

const POLL_INTERVAL_MS = 2000;

/** A request exactly as sent: no Accept header unless given (the test helpers add one). */
function plain(path: string, init: RequestInit & { token: string }): Promise<Response> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("authorization", `Bearer ${token}`);
  return SELF.fetch(`${GATEWAY}${path}`, { redirect: "manual", ...rest, headers });
}

async function preparingVideo(): Promise<{ uid: string; token: string }> {
  const { uid } = await seedVideo({ downloadSeconds: 60 });
  return { uid, token: await appToken(randomUser(), { videos: [uid] }) };
}

/** The 503 a plain client gets: its problem, Retry-After in the header and the body, and the progress. */
async function expectPreparing(res: Response): Promise<void> {
  const problem = await expectProblem(res, 503, "download-preparing");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(problem).toMatchObject({ retryAfter, percentComplete: expect.any(Number) });
  expect(problem.percentComplete).toBeGreaterThanOrEqual(0);
  expect(problem.percentComplete).toBeLessThan(100);
}

describe("GET /v1/videos/:uid/download while Stream prepares the file", () => {
  test("a client without an Accept header gets 503 download-preparing with Retry-After and the progress, and the download is started at Stream", async () => {
    const { uid, token } = await preparingVideo();
    await expectPreparing(await plain(`/v1/videos/${uid}/download`, { token }));
    expect((await counters(uid)).byOperation["downloads.create"]).toBe(1);
  });

  test("curl's Accept: */* gets the 503 too; so does application/json with q=0", async () => {
    const { uid, token } = await preparingVideo();
    await expectPreparing(await plain(`/v1/videos/${uid}/download`, { token, headers: { accept: "*/*" } }));
    await expectPreparing(await plain(`/v1/videos/${uid}/download`, { token, headers: { accept: "application/json;q=0, */*" } }));
  });

  test("a client that lists application/json among others gets the 202 with the progress", async () => {
    const { uid, token } = await preparingVideo();
    const res = await plain(`/v1/videos/${uid}/download`, { token, headers: { accept: "text/plain, Application/JSON;q=0.9, */*;q=0.1" } });
    expect(res.status).toBe(202);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ status: "inprogress", percentComplete: expect.any(Number), retryAfter });
  });

  test("a browser navigation keeps the 202 progress page", async () => {
    const { uid, token } = await preparingVideo();
    const res = await plain(`/v1/videos/${uid}/download`, { token, headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("<progress");
  });

  test("HEAD answers a plain client as its GET would, 503 with Retry-After, and asks Stream to create nothing", async () => {
    const { uid, token } = await preparingVideo();
    const res = await plain(`/v1/videos/${uid}/download`, { token, method: "HEAD" });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await res.text()).toBe("");
    expect((await counters(uid)).byOperation["downloads.create"]).toBeUndefined();
  });

  test("the same plain request, asked again once Stream has made the file, redirects to it", async () => {
    const { uid, token } = await preparingVideo();
    await expectPreparing(await plain(`/v1/videos/${uid}/download`, { token }));
    await control("POST", `/videos/${uid}/downloads/default/finish`);
    await sleep(POLL_INTERVAL_MS + 200);
    const res = await plain(`/v1/videos/${uid}/download`, { token });
    expect(res.status).toBe(302);
    await res.body?.cancel();
  });
});

describe("the other routes that answer 'preparing'", () => {
  test("POST /v1/videos/:uid/download-url answers JSON whatever the client asks for: 202 with the progress", async () => {
    const { uid, token } = await preparingVideo();
    for (const accept of [null, "*/*", "text/html"]) {
      const res = await plain(`/v1/videos/${uid}/download-url`, { token, method: "POST", headers: accept === null ? {} : { accept } });
      expect(res.status).toBe(202);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await res.json()).toMatchObject({ status: "inprogress", percentComplete: expect.any(Number) });
    }
  });

  test("POST /s/:secret from curl (a form post, no Accept) gets 503 download-preparing and takes no use; a JSON client gets the 202", async () => {
    const { uid, token } = await preparingVideo();
    const link = await createShareLink(uid, token, { maxDownloads: 1 });
    const form = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" };
    await expectPreparing(await SELF.fetch(`${GATEWAY}/s/${link.secret}`, { redirect: "manual", ...form }));
    const json = await SELF.fetch(`${GATEWAY}/s/${link.secret}`, { redirect: "manual", ...form, headers: { ...form.headers, accept: "application/json" } });
    expect(json.status).toBe(202);
    expect(await json.json()).toMatchObject({ status: "inprogress" });
    expect((await shareLinkRow(link.id)).uses).toBe(0);
    expect(await linkAuditCount(link.id)).toBe(0);
  });

  test("the OpenAPI document lists download-preparing under 503 for the download route", async () => {
    const res = await gateway("/openapi.json");
    const document = (await res.json()) as { paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };
    const responses = document.paths["/v1/videos/{uid}/download"]?.["get"]?.responses ?? {};
    expect(responses["503"]?.description.split(", ")).toContain("download-preparing");
    expect(responses["202"]).toBeDefined();
  });
});
