// Opaque paging cursors: base64url of the last row's sort key as JSON. Opaque to clients, so the
// order key can change without breaking them; every list route pages the same way.
import { invalidRequest } from "../problems";

export function encodeCursor(key: readonly (string | number)[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The sort key of a cursor this API returned, checked against the element types the route expects. */
export function decodeCursor<T extends ("string" | "number")[]>(
  cursor: string | undefined,
  ...types: T
): { [K in keyof T]: T[K] extends "string" ? string : number } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const key = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as unknown;
    if (
      Array.isArray(key) &&
      key.length === types.length &&
      key.every((value, i) => (types[i] === "number" ? Number.isSafeInteger(value) : typeof value === "string"))
    ) {
      return key as { [K in keyof T]: T[K] extends "string" ? string : number };
    }
  } catch {
    // Falls through to the problem below.
  }
  throw invalidRequest("cursor", "cursor is not one this API returned");
}
