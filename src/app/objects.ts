// The gateway's Durable Object classes: a Worker that runs the gateway exports them from its main
// module (wrangler.toml's [[durable_objects.bindings]] name them), so every entry re-exports this.
export { StreamApiBudget } from "../stream/budget-object";
export { UserQuota } from "../record/quota-object";
export { ShareLinkObject } from "../share-links/link-object";
