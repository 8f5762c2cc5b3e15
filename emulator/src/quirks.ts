// Where Stream's documentation is silent or contradicts itself, the emulator has to pick one
// answer (emulator/README.md › Assumptions). Each such choice is switchable through the control API
// (`PUT /__emulator/quirks`), so that the gateway's download path is tested against every
// reading, not only the one both were written from.
import { z } from "zod";

export const Quirks = z
  .object({
    /** `POST …/downloads/{type}`: keyed by type (the downloads guide, the SDK) or flat `{status, url, percentComplete}` (one API reference page). */
    createResponse: z.enum(["keyed", "flat"]),
    /**
     * Video objects as the REST examples show them ("documented"), or as the types allow
     * ("sparse"): `requireSignedURLs` null unless true, `readyToStream` absent while not ready,
     * `meta` null when empty, no `errorReasonCode`.
     */
    videoFields: z.enum(["documented", "sparse"]),
    /** The answer to creating a download of a video that is not ready (undocumented). */
    notReadyCreate: z.object({ status: z.number().int().min(400).max(499), code: z.number().int() }).strict(),
    /** Errored videos say `readyToStream: true`, as the webhooks page's error example does. */
    erroredReadyToStream: z.boolean(),
    /** Delivery host: the status of a download that is not ready (undocumented: 404 or 424). */
    deliveryNotReady: z.union([z.literal(404), z.literal(424)]),
    /** A new signing key's JWK `kid`: its `id`, or one that differs, as the docs' only example shows. */
    keyKid: z.enum(["id", "differs"]),
    /**
     * The client address the delivery host sees instead of CF-Connecting-IP: a browser that
     * reaches Stream over another address family or exit than it reached the gateway with.
     */
    deliveryClientIp: z.string().max(64).nullable(),
    /**
     * Event subscriptions: `download.ready` and `download.errored` exist (Stream counts 14 event
     * types, which they complete), or only the documented download events do.
     */
    downloadCompletionEvents: z.boolean(),
    /**
     * `POST …/downloads` without a body: accepted like `{}`, or refused with 400 as the API
     * reference's "request body required" reads.
     */
    createRequiresBody: z.boolean(),
    /**
     * Download entries as the examples show them ("documented"), or as the API reference allows
     * ("sparse": `status` and `percentComplete` are optional): no `percentComplete`, and no
     * `status` while generation is in progress.
     */
    downloadFields: z.enum(["documented", "sparse"]),
    /** The webhook subscription's URL field in answers: the docs' `notificationUrl`, the SDK's `notification_url`, or both. */
    webhookUrlField: z.enum(["camel", "snake", "both"]),
    /**
     * Seconds a video that reached `ready` still says `readyToStream: false` (the webhooks page: a
     * video plays once both hold); its downloads are refused meanwhile. 0: ready is streamable.
     */
    readyBeforeStreamableSeconds: z.number().min(0).max(3600),
    /** The delivery host applies a video's `allowedOrigins` to MP4/M4A downloads too (undocumented). */
    allowedOriginsOnDownloads: z.boolean(),
  })
  .strict();
export type Quirks = z.infer<typeof Quirks>;

export const DEFAULT_QUIRKS: Quirks = {
  createResponse: "keyed",
  videoFields: "documented",
  notReadyCreate: { status: 400, code: 10005 },
  erroredReadyToStream: false,
  deliveryNotReady: 404,
  keyKid: "id",
  deliveryClientIp: null,
  downloadCompletionEvents: true,
  createRequiresBody: false,
  downloadFields: "documented",
  webhookUrlField: "camel",
  readyBeforeStreamableSeconds: 0,
  allowedOriginsOnDownloads: false,
};
