// The app's hooks (library options), held to their documented answers. They fail closed: an answer
// outside the documented set refuses and is logged once per isolate as the app's mistake (a hook
// answering a boolean or `undefined` must never let everyone through); a hook that throws Hono's
// HTTPException with a 4xx keeps its status (the app's own refusal); any other throw, or no
// answer within the time allowed, is a retryable 503 and hands out nothing.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { EntitlementSource, Entitle, StillEntitled } from "../entitle/entitle";
import { isUserId, type AppUser } from "../identify/app-token";
import { errorText, retryLater, unauthenticated } from "../problems";

/** The user as an app's identify hook may answer it: `claims` may be left out. */
export interface HostUser {
  id: string;
  claims?: AppUser["claims"];
}

/**
 * Who is calling (step 1): the user, or null when nobody is signed in (401). `allowCookie` is
 * false on routes that change state and on requests another site started: an app reading a
 * session cookie should then refuse it (the gateway refuses cross-site state changes itself too).
 */
export type IdentifyHook<C = Context> = (c: C, options: { allowCookie: boolean }) => Promise<HostUser | null> | HostUser | null;

/**
 * May the user download the video? `"grant"` or `true`: the app holds the right and can take it
 * back (share links made under it ask again); `"claim"`: the right travels with the user;
 * `null` or `false`: no (403). Anything else is refused too, and logged as a misconfiguration.
 */
export type EntitleAnswer = EntitlementSource | boolean | null;
export type EntitleHook<C = Context> = (user: AppUser, video: string, c: C) => Promise<EntitleAnswer> | EntitleAnswer;

/** Does a share link's creator still hold the right the link was made under? Only `true` says yes. */
export type StillEntitledHook<C = Context> = (link: { creator: string; video: string; createdAt: number }, c: C) => Promise<boolean> | boolean;

export type HookName = "identify" | "entitle" | "stillEntitled";

/** How long a hook may take before its request is answered 503 (library option `hookTimeoutMs`). */
export const HOOK_TIMEOUT_MS = 5000;
/** What clients are told to wait after a hook failed. */
const HOOK_RETRY_SECONDS = 5;

class HookTimeout extends Error {}

/** The guards of one gateway: its misconfiguration warnings are logged once each per isolate. */
export function hookGuards(timeoutMs: number) {
  const warned = new Set<HookName>();
  /** `answered` says what the hook answered by its type only: a value could be the app's data. */
  const misconfigured = (hook: HookName, answered: string) => {
    if (warned.has(hook)) return;
    warned.add(hook);
    console.error(`misconfigured: the ${hook} hook answered ${answered}, which is not one of its documented answers; refused (docs/integration.md › The library)`);
  };

  async function call(hook: HookName, run: () => unknown): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HookTimeout()), timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(run), late]);
    } catch (error) {
      if (error instanceof HTTPException && error.status >= 400 && error.status < 500) throw error;
      const why = error instanceof HookTimeout ? `gave no answer within ${timeoutMs} ms` : "failed";
      console.error(`the ${hook} hook ${why}:`, error instanceof HookTimeout ? "" : errorText(error));
      throw retryLater("upstream-unavailable", `The app could not answer (its ${hook} hook ${why}).`, HOOK_RETRY_SECONDS);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  return {
    identify<C>(hook: IdentifyHook<C>): (c: C, options: { allowCookie: boolean }) => Promise<AppUser> {
      return async (c, options) => {
        const answer = await call("identify", () => hook(c, options));
        if (answer === null) throw unauthenticated("no credentials");
        const user = asUser(answer);
        if (typeof user === "string") {
          misconfigured("identify", user);
          throw unauthenticated("no valid user");
        }
        return user;
      };
    },
    entitle<C>(hook: EntitleHook<C>): Entitle<C> {
      return async (user, video, c) => {
        const answer = await call("entitle", () => hook(user, video, c));
        if (answer === "claim" || answer === "grant") return answer;
        // A boolean is how most apps answer; a yes is a right the app holds and may take back.
        if (answer === true) return "grant";
        if (answer !== null && answer !== false) misconfigured("entitle", kindOf(answer));
        return null;
      };
    },
    stillEntitled<C>(hook: StillEntitledHook<C>): StillEntitled<C> {
      return async (link, c) => {
        const answer = await call("stillEntitled", () => hook(link, c));
        if (answer !== true && answer !== false) misconfigured("stillEntitled", kindOf(answer));
        return answer === true;
      };
    },
  };
}

/** A user with an id the gateway can key on and claims it can read, or what is wrong with the answer. */
function asUser(answer: unknown): AppUser | string {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return kindOf(answer);
  const { id, claims } = answer as { id?: unknown; claims?: unknown };
  if (!isUserId(id)) return "a user whose id is not 1 to 256 characters of well-formed text without control characters";
  if (claims === undefined) return { id, claims: {} };
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return "a user whose claims are not an object";
  return { id, claims: claims as AppUser["claims"] };
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (value === "") return "an empty string";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
