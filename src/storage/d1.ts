/** Reads go through a D1 session so that replicas can answer (docs/design.md); writes reach the primary either way. */
export type Db = D1Database | D1DatabaseSession;

// Retention deletes in small batches keep each statement short (D1 serialises writes, so one huge
// DELETE would stall downloads); the cap on batches keeps one run within the invocation's query
// limit, and whatever is left goes at the next run.
const BATCH = 5000;
const MAX_BATCHES = 100;

/** Runs `statement` (bound with the cutoff and the batch size) until it deletes less than a full batch; the rows deleted. */
export async function deleteInBatches(db: Db, statement: string, cutoff: number): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const changes = (await db.prepare(statement).bind(cutoff, BATCH).run()).meta.changes;
    deleted += changes;
    if (changes < BATCH) break;
  }
  return deleted;
}
