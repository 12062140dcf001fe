import type postgres from "postgres";
import type { Sql } from "../../platform/database.ts";
import { isAdmin, type Principal } from "./principal.ts";

/**
 * The SQL condition "`principal` may act on this row": its owner column is theirs, or they are
 * an admin. Every service query over owned rows goes through it, so a user asking for another's
 * resource gets the same "no such row" (404) as for one that does not exist.
 *
 * @example
 * sql`SELECT … FROM images WHERE id = ${id} AND ${visibleTo(sql, principal)}`
 */
export function visibleTo(
  sql: Sql,
  principal: Principal,
  column = "owner_id",
): postgres.PendingQuery<postgres.Row[]> {
  return isAdmin(principal) ? sql`TRUE` : sql`${sql(column)} = ${principal.userId}`;
}

/** The SQL condition "owned by `principal` themselves": for listings, admins included. */
export function ownedBy(
  sql: Sql,
  principal: Principal,
  column = "owner_id",
): postgres.PendingQuery<postgres.Row[]> {
  return sql`${sql(column)} = ${principal.userId}`;
}
