// The OpenAPI document, generated from the reference Worker's routes, validates against the
// official OpenAPI 3.1 JSON Schema (here in Node: the validator compiles code, which workerd forbids).
import { Validator } from "@seriousme/openapi-schema-validator";
import { expect, test } from "vitest";
import { openApiDocument } from "../../src/routes/openapi";
import { app } from "../../src/index";

test.each([
  { users: "token" as const, cookieName: "sdg_session", admin: true },
  { users: "hook" as const, cookieName: null, admin: false },
])("the gateway's OpenAPI document is a valid OpenAPI 3.1 document (%o)", async (auth) => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(openApiDocument(app, auth)));
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
});
