import { type Page, pageOf } from "../../../core/lib/paging.ts";
import { uuidv7 } from "../../../core/lib/uuid.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { Sql } from "../../../platform/database.ts";
import type { Principal } from "../principal.ts";
import { generateApiKey } from "./api-key-format.ts";

export type ApiKeyRecord = {
  id: string;
  name: string;
  /** The first characters of the key, to tell keys apart. */
  prefix: string;
  created_at: string;
  expires_at: string | null;
};

type Row = { id: string; name: string; prefix: string; created_at: Date; expires_at: Date | null };

const COLUMNS = "id, name, prefix, created_at, expires_at";

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  created_at: r.created_at.toISOString(),
  expires_at: r.expires_at?.toISOString() ?? null,
});

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

/** A user's API keys: made for machines, shown once, kept only as a hash, revoked by deletion. */
export function createApiKeyService(deps: { sql: Sql }) {
  const { sql } = deps;

  return {
    /** A new key for the caller; the returned `key` is the only time it is ever shown. */
    async create(
      principal: Principal,
      options: { name: string; expiresAt: Date | null },
    ): Promise<ApiKeyRecord & { key: string }> {
      if (options.expiresAt && options.expiresAt.getTime() <= Date.now()) {
        throw new ApiError(
          "validation_failed",
          `Expected a time in the future for expires_at but received ${options.expiresAt.toISOString()}`,
          { errors: [{ path: "json.expires_at", message: "Expected a time in the future" }] },
        );
      }
      const { key, prefix, hash } = await generateApiKey();
      const [row] = await sql<Row[]>`
        INSERT INTO api_keys (id, user_id, name, prefix, key_hash, expires_at)
        VALUES (${uuidv7()}, ${principal.userId}, ${options.name}, ${prefix}, ${hash}, ${options.expiresAt})
        RETURNING ${sql.unsafe(COLUMNS)}`;
      return { ...toRecord(row as Row), key };
    },

    /** The caller's keys that are not revoked (expired ones included), newest first. */
    async list(
      principal: Principal,
      options: { limit: number; cursor?: string | undefined },
    ): Promise<Page<ApiKeyRecord>> {
      const rows = await sql<Row[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM api_keys
        WHERE user_id = ${principal.userId} AND revoked_at IS NULL
          ${options.cursor ? sql`AND id < ${options.cursor}` : sql``}
        ORDER BY id DESC LIMIT ${options.limit + 1}`;
      return pageOf(rows, options.limit, toRecord);
    },

    /** Revokes one of the caller's keys: it stops working with its next request. */
    async revoke(principal: Principal, id: string): Promise<void> {
      const rows = await sql`
        UPDATE api_keys SET revoked_at = now()
        WHERE id = ${id} AND user_id = ${principal.userId} AND revoked_at IS NULL
        RETURNING id`;
      if (rows.length === 0) throw new ApiError("not_found", `No API key with id ${id}`);
    },
  };
}
