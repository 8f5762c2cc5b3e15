// Keyset paging, the one way every list pages: a query ordered by a unique key is run with
// LIMIT limit + 1, and the extra row only says that there is more after the page.

/** The first `limit` rows, and the key of the last of them to continue after, or null when there is no more. */
export function keysetPage<Row, Key>(rows: Row[], limit: number, keyOf: (row: Row) => Key): { rows: Row[]; next: Key | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit && last !== undefined ? keyOf(last) : null };
}
