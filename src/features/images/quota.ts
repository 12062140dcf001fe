import type { Limits } from "../../config/config.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql, Transaction } from "../../platform/database.ts";

export type Quota = ReturnType<typeof createQuota>;

/**
 * MAX_USER_BYTES over everything a user causes to be stored: images (originals and derived),
 * cached renderings and analyses, segmentations. Triggers keep user_usage in step with those
 * rows; the check runs after the insert, in its transaction, so a refusal rolls it back.
 */
export function createQuota(limits: Pick<Limits, "maxUserBytes">) {
  function exceeded(used: number, adding: number): ApiError {
    return new ApiError(
      "payload_too_large",
      `Storing ${adding} more bytes would bring what you store to ${used + adding} bytes; the quota (MAX_USER_BYTES) is ${limits.maxUserBytes}`,
    );
  }

  async function usedBytes(db: Sql | Transaction, ownerId: string): Promise<number> {
    const [row] = await db<{ bytes: string }[]>`
      SELECT bytes FROM user_usage WHERE user_id = ${ownerId}`;
    return Number(row?.bytes ?? 0);
  }

  return {
    exceeded,

    /**
     * Before work whose result would be stored: 413 when `ownerId` has no room for `adding` more
     * bytes (by default: no byte left, so a full quota costs no worker time). Racy by design;
     * `check` decides.
     */
    async ensureRoom(sql: Sql, ownerId: string | null, adding = 1): Promise<void> {
      if (!ownerId) return;
      const used = await usedBytes(sql, ownerId);
      if (used + adding > limits.maxUserBytes) throw exceeded(used, adding);
    },

    /**
     * After inserting `adding` bytes for `ownerId` inside `tx`: 413 when that went past the
     * quota. The insert's trigger locked the owner's usage row until commit, so concurrent
     * writers of one user take turns and each sees the others' bytes.
     */
    async check(tx: Transaction, ownerId: string | null, adding: number): Promise<void> {
      if (!ownerId) return;
      const used = await usedBytes(tx, ownerId);
      if (used > limits.maxUserBytes) throw exceeded(used - adding, adding);
    },
  };
}
