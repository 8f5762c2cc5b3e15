// The demo account every fresh emulator starts with (and `POST /__emulator/reset` restores):
// one video in each situation the gateway must handle, and the dev-only signing key.
import devAccount from "../fixtures/dev-account.json";
import type { Settings } from "./settings";
import { emptyState, type AccountState } from "./store";
import { newVideo, type NewVideo } from "./videos";

export const DEMO_VIDEOS = {
  signedReady: "c0ffee00000000000000000000000001",
  signedNoDownloads: "c0ffee00000000000000000000000002",
  public: "c0ffee00000000000000000000000003",
  processing: "c0ffee00000000000000000000000004",
  errored: "c0ffee00000000000000000000000005",
} as const;

/** The public half of the committed dev-only key (fixtures/dev-account.json). */
function devKeyPublicJwk(): JsonWebKey {
  const { kty, n, e } = JSON.parse(atob(devAccount.signingKey.jwk)) as JsonWebKey;
  return { kty, n, e, alg: "RS256" };
}

export function seedState(settings: Settings, now: number): AccountState {
  const state = emptyState();
  const timings = { processingMs: settings.processingMs, downloadMs: settings.downloadMs };
  const videos: NewVideo[] = [
    {
      uid: DEMO_VIDEOS.signedReady,
      name: "Launch keynote",
      requireSignedURLs: true,
      downloads: { default: "ready", audio: "ready" },
      ...timings,
    },
    { uid: DEMO_VIDEOS.signedNoDownloads, name: "Product tour", requireSignedURLs: true, ...timings },
    { uid: DEMO_VIDEOS.public, name: "Public trailer", requireSignedURLs: false, ...timings },
    { uid: DEMO_VIDEOS.processing, name: "Town hall", requireSignedURLs: true, state: "queued", ...timings },
    {
      uid: DEMO_VIDEOS.errored,
      name: "Corrupted upload",
      requireSignedURLs: true,
      state: "error",
      errorReasonCode: "ERR_MALFORMED_VIDEO",
      ...timings,
    },
  ];
  videos.forEach((input, i) => {
    // Distinct creation times keep the list order stable (newest first).
    state.videos[input.uid as string] = newVideo(input, now - (videos.length - i) * 1000);
  });
  state.keys[devAccount.signingKey.id] = {
    id: devAccount.signingKey.id,
    created: Date.parse(devAccount.signingKey.created),
    publicJwk: devKeyPublicJwk(),
    revoked: false,
  };
  return state;
}
