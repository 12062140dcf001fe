/** One page of a listing: `next_cursor` is the id to continue after, or null on the last page. */
export type Page<T> = { items: T[]; next_cursor: string | null };

/**
 * One page of a keyset listing whose query asked for `limit + 1` rows: a row past `limit` means
 * there is a next page, which starts after the last item shown.
 *
 * @example
 * pageOf(await sql`SELECT … WHERE id < ${cursor} ORDER BY id DESC LIMIT ${limit + 1}`, limit, toRecord)
 */
export function pageOf<R, T extends { id: string }>(
  rows: readonly R[],
  limit: number,
  toItem: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit).map(toItem);
  return { items, next_cursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
