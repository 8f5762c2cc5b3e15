// Test helpers that talk to the emulator over HTTP, exactly as the gateway and SDK clients do.
import devAccount from "../../emulator/fixtures/dev-account.json";

export const ACCOUNT = devAccount.accountId;
export const API_TOKEN = devAccount.apiToken;
export const API_BASE = `https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/stream`;
export const DELIVERY_BASE = `https://customer-${devAccount.customerCode}.cloudflarestream.com`;
const CONTROL = `${DELIVERY_BASE}/__emulator`;

export interface Envelope<T = unknown> {
  result: T;
  success: boolean;
  errors: { code: number; message: string; error_chain?: { code: number; message: string }[] }[];
  messages: unknown[];
}

export async function api<T = unknown>(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: Envelope<T> }> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${API_TOKEN}`);
  const res = await fetch(`${API_BASE}${path}`, { ...init, headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Envelope<T> };
}

export async function control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${CONTROL}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export interface SeededVideo {
  uid: string;
  requireSignedURLs: boolean;
  status: { state: string };
}

/** A fresh video with a random UID, so that tests never share state or counters. */
export function seedVideo(options: Record<string, unknown> = {}): Promise<SeededVideo> {
  return control<SeededVideo>("POST", "/videos", { name: "test video", requireSignedURLs: true, ...options });
}

export async function counters(video?: string): Promise<{ api: number; delivery: number; byOperation: Record<string, number> }> {
  return control("GET", `/counters${video ? `?video=${video}` : ""}`);
}

const injected: number[] = [];

/** Injects a fault (emulator/README.md › Control API); `removeFaults` takes away every one injected so far. */
export async function injectFault(fault: Record<string, unknown>): Promise<number> {
  const { id } = await control<{ id: number }>("POST", "/faults", fault);
  injected.push(id);
  return id;
}

/** Takes one injected fault away now. */
export async function removeFault(id: number): Promise<void> {
  const index = injected.indexOf(id);
  if (index >= 0) injected.splice(index, 1);
  await control("DELETE", `/faults/${id}`);
}

/** For `afterEach`: each test file has its own module instance, so this removes only its faults. */
export async function removeFaults(): Promise<void> {
  for (const id of injected.splice(0)) await control("DELETE", `/faults/${id}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A video UID (32 lowercase hex characters) that no seeded video has. */
export const unknownUid = () => crypto.randomUUID().replaceAll("-", "");
