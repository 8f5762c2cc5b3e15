// The shop's sign-in: email and password checked against its users table, then a session cookie
// backed by its sessions table. Nothing here knows about downloads.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { verifyPassword } from "./passwords";

const COOKIE = "shop_session";
const SESSION_SECONDS = 12 * 60 * 60;

export interface Session {
  userId: string;
  email: string;
  /** Proves a request comes from the shop's own page (src/downloads.ts). */
  csrfToken: string;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

/** 256 random bits. */
const randomToken = () => hex(crypto.getRandomValues(new Uint8Array(32)));

const sha256 = async (text: string) => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));

// `wrangler dev` serves http://localhost, where not every browser keeps a Secure cookie.
const secure = (c: Context) => !["localhost", "127.0.0.1"].includes(new URL(c.req.url).hostname);
// Everywhere else the cookie is __Host-: Secure, Path=/, no Domain, so a sibling subdomain cannot
// plant a session of its own on the shop (signing the user in as someone else).
const prefix = (c: Context) => (secure(c) ? ("host" as const) : undefined);

/** The user whose email and password these are, or null. */
export async function checkPassword(db: D1Database, email: string, password: string): Promise<string | null> {
  const user = await db
    .prepare("SELECT id, password_hash FROM users WHERE email = ?")
    .bind(email.trim().toLowerCase())
    .first<{ id: string; password_hash: string }>();
  return (await verifyPassword(password, user?.password_hash ?? null)) && user ? user.id : null;
}

export async function startSession(c: Context, db: D1Database, userId: string): Promise<void> {
  const token = randomToken();
  const now = Date.now();
  // A new sign-in ends this browser's previous session rather than leaving it valid.
  const previous = getCookie(c, COOKIE, prefix(c));
  await db.batch([
    db.prepare("DELETE FROM sessions WHERE expires_at <= ? OR token_hash = ?").bind(now, previous ? await sha256(previous) : ""),
    db.prepare("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES (?, ?, ?, ?)")
      .bind(await sha256(token), userId, randomToken(), now + SESSION_SECONDS * 1000),
  ]);
  setCookie(c, COOKIE, token, { path: "/", httpOnly: true, sameSite: "Lax", secure: secure(c), maxAge: SESSION_SECONDS, prefix: prefix(c) });
}

export async function currentSession(c: Context, db: D1Database): Promise<Session | null> {
  const token = getCookie(c, COOKIE, prefix(c));
  if (!token) return null;
  const row = await db
    .prepare("SELECT s.user_id, s.csrf_token, u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?")
    .bind(await sha256(token), Date.now())
    .first<{ user_id: string; csrf_token: string; email: string }>();
  return row && { userId: row.user_id, email: row.email, csrfToken: row.csrf_token };
}

export async function endSession(c: Context, db: D1Database): Promise<void> {
  const token = getCookie(c, COOKIE, prefix(c));
  if (token) await db.prepare("DELETE FROM sessions WHERE token_hash = ?").bind(await sha256(token)).run();
  deleteCookie(c, COOKIE, { path: "/", secure: secure(c), prefix: prefix(c) });
}
