// /openapi.json describes every public route the app really has (the document's validity against
// the OpenAPI 3.1 schema is checked in test/node/openapi.test.ts, where a validator can run).
import { expect, test } from "vitest";
import { app } from "../../src/index";
import { appToken, expectProblem, gateway, randomUser } from "../helpers";
import { seedVideo } from "../emulator/helpers";
import { DELIVERY_MODES } from "../../src/deliver/modes";

/** Hono's `:param` (with an optional `{regex}`) as OpenAPI's `{param}`. */
const toOpenApi = (path: string) => path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, "{$1}");

test("GET /openapi.json is an OpenAPI 3.1 document listing every route of the app, with its methods", async () => {
  const res = await gateway("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toBe("3.1.0");

  const routes = app.routes
    .filter((r) => r.method !== "ALL" && !r.path.startsWith("/demo"))
    .map((r) => `${r.method.toLowerCase()} ${toOpenApi(r.path)}`);
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
  expect(new Set(documented)).toEqual(new Set(routes));
});

test("the document's request schemas are the validating ones: a documented enum is what the route enforces", async () => {
  const doc = (await (await gateway("/openapi.json")).json()) as {
    paths: Record<string, Record<string, { parameters?: { name: string; schema: { enum?: string[] } }[] }>>;
  };
  const mode = doc.paths["/v1/videos/{uid}/download"]?.get?.parameters?.find((p) => p.name === "mode");
  expect(mode?.schema.enum).toEqual([...DELIVERY_MODES]);
  // What the route takes: every documented value gets past validation, anything else is 400 on `mode`.
  const { uid } = await seedVideo({ downloads: { default: "ready" } });
  const token = await appToken(randomUser(), { videos: [uid] });
  for (const value of mode!.schema.enum!) {
    const res = await gateway(`/v1/videos/${uid}/download?mode=${value}`, { token });
    await res.body?.cancel();
    expect([302, 303], value).toContain(res.status);
  }
  const refused = await expectProblem(await gateway(`/v1/videos/${uid}/download?mode=inline`, { token }), 400, "invalid-request");
  expect(refused["field"]).toBe("mode");
});
