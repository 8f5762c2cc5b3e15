/** Reads go through a D1 session so that replicas can answer (SPEC.md §5); writes reach the primary either way. */
export type Db = D1Database | D1DatabaseSession;
