// Share-link ids are capabilities: 192 random bits (docs/http-api.md asks ≥ 128), base64url, so that
// guessing one is hopeless and the id alone can be handed around.
const ID_BYTES = 24;

export function newLinkId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BYTES));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** How a log line names a link: enough of its id to find it in the owner's list, too little to use it. */
export const linkRef = (id: string): string => `${id.slice(0, 6)}…`;
