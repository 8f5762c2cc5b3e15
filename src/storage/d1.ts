/** Reads go through a D1 session so that replicas can answer (docs/design.md); writes reach the primary either way. */
export type Db = D1Database | D1DatabaseSession;
