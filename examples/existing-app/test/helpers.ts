// Test helpers: the shop's customers and purchases written straight to its D1, and requests to
// the shop's Worker as a browser on its own page would send them.
import { SELF, env } from "cloudflare:test";
import { expect } from "vitest";
import { hashPassword } from "../src/passwords";

export const SHOP = "https://shop.test";

export interface Customer {
  id: string;
  email: string;
  password: string;
}

/** A new customer, so that tests never share sessions, purchases or per-user rate limits. */
export async function addCustomer(): Promise<Customer> {
  const id = crypto.randomUUID();
  const customer = { id, email: `${id}@customers.test`, password: `password of ${id}` };
  await env.APP_DB.prepare("INSERT INTO users (id, email, password_hash) VALUES (?, ?, ?)")
    .bind(id, customer.email, await hashPassword(customer.password))
    .run();
  return customer;
}

export async function buy(customer: Customer, videoUid: string, title = "A video"): Promise<void> {
  await env.APP_DB.prepare("INSERT INTO purchases (user_id, video_uid, title, purchased_at) VALUES (?, ?, ?, ?)")
    .bind(customer.id, videoUid, title, Date.now())
    .run();
}

export async function refund(customer: Customer, videoUid: string): Promise<void> {
  await env.APP_DB.prepare("DELETE FROM purchases WHERE user_id = ? AND video_uid = ?").bind(customer.id, videoUid).run();
}

/** A request to the shop; `session` is the session cookie's value. */
export function shop(path: string, init: RequestInit & { session?: string; origin?: string } = {}): Promise<Response> {
  const { session, origin = SHOP, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (session) headers.set("cookie", `${origin.startsWith("https:") ? "__Host-" : ""}shop_session=${session}`);
  return SELF.fetch(`${origin}${path}`, { redirect: "manual", ...rest, headers });
}

/** The sign-in form posted from the shop's own page. */
export function postSignIn(email: string, password: string, origin = SHOP): Promise<Response> {
  return shop("/login", { method: "POST", origin, headers: { origin }, body: new URLSearchParams({ email, password }) });
}

/** Signs the customer in and returns the session cookie's value. */
export async function signIn(customer: Customer): Promise<string> {
  const res = await postSignIn(customer.email, customer.password);
  expect(res.status).toBe(303);
  const session = /^__Host-shop_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  expect(session).toBeDefined();
  return session ?? "";
}

/** The CSRF token the shop's page hands its download buttons. */
export async function pageCsrfToken(session: string): Promise<string> {
  const page = await (await shop("/", { session })).text();
  const token = /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1];
  expect(token).toBeDefined();
  return token ?? "";
}

/** What the gateway answers a refusal with: an RFC 9457 problem of this type. */
export async function expectProblem(res: Response, status: number, type: string): Promise<void> {
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, body: await res.json() }).toMatchObject({ status, body: { status, type } });
}
