import type { Limits } from "../../config/config.ts";
import { toBase64Url } from "../../core/lib/encoding.ts";
import { type Page, pageOf } from "../../core/lib/paging.ts";
import { uuidv7 } from "../../core/lib/uuid.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import type { PasswordHasher } from "../../platform/password-hasher.ts";
import { passwordProblem } from "./password-policy.ts";
import type { Principal, Role } from "./principal.ts";
import type { TokenResponse, TokenService } from "./token-service.ts";

export type UserRecord = {
  id: string;
  email: string;
  role: Role;
  disabled_at: string | null;
  created_at: string;
};

export type Usage = { bytes: number; images: number; max_bytes: number; max_images: number };

type Row = Omit<UserRecord, "disabled_at" | "created_at"> & {
  disabled_at: Date | null;
  created_at: Date;
};

const COLUMNS = "id, email, role, disabled_at, created_at";

const toRecord = (r: Row): UserRecord => ({
  id: r.id,
  email: r.email,
  role: r.role,
  disabled_at: r.disabled_at?.toISOString() ?? null,
  created_at: r.created_at.toISOString(),
});

/** Emails compare case-insensitively: stored trimmed and lower-cased. */
const normalizeEmail = (email: string): string => email.trim().toLowerCase();

// One answer for an unknown email, a wrong password and a disabled account: which of them it was
// is not revealed, neither by the body nor (see `login`) by the time it takes.
const invalidCredentials = () => new ApiError("invalid_grant", "Incorrect email or password");

/**
 * The email address of user `id` (null when there is no such user), read inside `tx`: where a
 * finished job's notifications go.
 *
 * @example
 * const to = await userEmail(tx, summary.owner_id); // "ada@example.com"
 */
export async function userEmail(tx: Transaction, id: string): Promise<string | null> {
  const [user] = await tx<{ email: string }[]>`SELECT email FROM users WHERE id = ${id}`;
  return user?.email ?? null;
}

export type UserService = ReturnType<typeof createUserService>;

const dummyHashes = new WeakMap<PasswordHasher, Promise<string>>();

/**
 * A hash of a password nobody knows, made with the same parameters as real ones: an unknown
 * email is checked against it, so it costs the same argon2 run as a wrong password. One per
 * hasher, made on the first log-in that needs one: the edge builds this service for every
 * request, and a request that logs nobody in must not pay for a hash.
 */
function dummyHashOf(hasher: PasswordHasher): Promise<string> {
  let hash = dummyHashes.get(hasher);
  if (!hash) {
    hash = hasher.hash(toBase64Url(crypto.getRandomValues(new Uint8Array(24))));
    dummyHashes.set(hasher, hash);
    // A failed hash is not kept: the next log-in tries again.
    hash.catch(() => dummyHashes.delete(hasher));
  }
  return hash;
}

/** Accounts: signup, login, the caller's own account, and the admins' view of all of them. */
export function createUserService(deps: {
  sql: Sql;
  hasher: PasswordHasher;
  tokens: TokenService;
  limits: Limits;
}) {
  const { sql, hasher, tokens, limits } = deps;

  function checkPassword(password: string, email: string, field: string) {
    const problem = passwordProblem(password, email);
    if (problem) {
      throw new ApiError("validation_failed", problem, {
        errors: [{ path: `json.${field}`, message: problem }],
      });
    }
  }

  async function create(email: string, password: string, role: Role): Promise<UserRecord> {
    const address = normalizeEmail(email);
    checkPassword(password, address, "password");
    const conflict = () =>
      new ApiError("conflict", `An account with the email ${address} already exists`);
    const [taken] = await sql`SELECT 1 FROM users WHERE email = ${address}`;
    if (taken) throw conflict();
    const hash = await hasher.hash(password);
    return sql.begin(async (tx) => {
      const [row] = await tx<Row[]>`
        INSERT INTO users (id, email, password_hash, role)
        VALUES (${uuidv7()}, ${address}, ${hash}, ${role})
        ON CONFLICT (email) DO NOTHING
        RETURNING ${tx.unsafe(COLUMNS)}`;
      if (!row) throw conflict();
      await tx`INSERT INTO user_usage (user_id) VALUES (${row.id})`;
      return toRecord(row);
    });
  }

  async function checkCredentials(email: string, password: string): Promise<string> {
    const [row] = await sql<{ id: string; password_hash: string; disabled_at: Date | null }[]>`
      SELECT id, password_hash, disabled_at FROM users WHERE email = ${normalizeEmail(email)}`;
    const ok = await hasher.verify(password, row?.password_hash ?? (await dummyHashOf(hasher)));
    if (!row || !ok) throw invalidCredentials();
    if (row.disabled_at) {
      throw new ApiError("invalid_grant", "This account is disabled; ask an admin to enable it");
    }
    return row.id;
  }

  async function get(id: string): Promise<UserRecord> {
    const [row] = await sql<Row[]>`SELECT ${sql.unsafe(COLUMNS)} FROM users WHERE id = ${id}`;
    if (!row) throw new ApiError("not_found", `No user with id ${id}`);
    return toRecord(row);
  }

  async function usage(userId: string): Promise<Usage> {
    const [row] = await sql<{ bytes: string; images: number }[]>`
      SELECT bytes, images FROM user_usage WHERE user_id = ${userId}`;
    return {
      bytes: Number(row?.bytes ?? 0),
      images: row?.images ?? 0,
      max_bytes: limits.maxUserBytes,
      max_images: limits.maxUserImages,
    };
  }

  return {
    get,
    usage,

    /** A new account with the `user` role. */
    signup: (email: string, password: string) => create(email, password, "user"),

    /** An account with any role: the CLI, the ADMIN_EMAIL bootstrap and tests. */
    create,

    /**
     * An access token for the account's email and password. A wrong password and an unknown
     * email are the same invalid_grant, after the same argon2 work; a disabled account says so,
     * but only to whoever proved its password.
     */
    async login(email: string, password: string): Promise<TokenResponse> {
      return tokens.issue(await checkCredentials(email, password));
    },

    /** The id of the account whose email and password these are (as `login` checks them). */
    checkCredentials,

    /**
     * Replaces the caller's password once the current one is proven. Tokens issued before this
     * second and every web session stop working; a fresh token is returned. API keys are not
     * affected.
     */
    async changePassword(
      principal: Principal,
      current: string,
      next: string,
    ): Promise<TokenResponse> {
      const [row] = await sql<{ email: string; password_hash: string }[]>`
        SELECT email, password_hash FROM users WHERE id = ${principal.userId}`;
      if (!row) throw new ApiError("not_found", `No user with id ${principal.userId}`);
      if (!(await hasher.verify(current, row.password_hash))) {
        throw new ApiError("forbidden", "The current password is not correct", {
          errors: [{ path: "json.current_password", message: "Incorrect password" }],
        });
      }
      checkPassword(next, row.email, "new_password");
      const hash = await hasher.hash(next);
      await sql.begin(async (tx) => {
        await tx`
          UPDATE users SET password_hash = ${hash}, tokens_valid_after = date_trunc('second', now())
          WHERE id = ${principal.userId}`;
        await tx`DELETE FROM sessions WHERE user_id = ${principal.userId}`;
      });
      return tokens.issue(principal.userId);
    },

    /**
     * Makes sure `email` is an enabled admin: creates the account, or promotes an existing one.
     * `resetPassword` also replaces an existing account's password (the CLI's recovery path).
     */
    async ensureAdmin(
      email: string,
      password: string,
      options: { resetPassword: boolean },
    ): Promise<{ user: UserRecord; created: boolean }> {
      const address = normalizeEmail(email);
      const [existing] = await sql<Row[]>`SELECT id FROM users WHERE email = ${address}`;
      if (!existing) {
        try {
          return { user: await create(address, password, "admin"), created: true };
        } catch (err) {
          // Another instance created it meanwhile: fall through to the promotion.
          if (!(err instanceof ApiError && err.code === "conflict")) throw err;
        }
      }
      if (options.resetPassword) checkPassword(password, address, "password");
      const hash = options.resetPassword ? await hasher.hash(password) : null;
      const [row] = await sql<Row[]>`
        UPDATE users SET role = 'admin', disabled_at = NULL,
          password_hash = COALESCE(${hash}, password_hash)
        WHERE email = ${address}
        RETURNING ${sql.unsafe(COLUMNS)}`;
      if (!row) throw new ApiError("not_found", `No user with email ${address}`);
      return { user: toRecord(row), created: false };
    },

    /** Every account, oldest first (admins). */
    async list(options: { limit: number; cursor?: string | undefined }): Promise<Page<UserRecord>> {
      const rows = await sql<Row[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM users
        ${options.cursor ? sql`WHERE id > ${options.cursor}` : sql``}
        ORDER BY id LIMIT ${options.limit + 1}`;
      return pageOf(rows, options.limit, toRecord);
    },

    /**
     * Disables or enables an account, or changes its role (admins). A disabled account's tokens
     * and keys stop working with its next request. Admins cannot lock themselves out this way.
     */
    async update(
      actor: Principal,
      id: string,
      changes: { disabled?: boolean | undefined; role?: Role | undefined },
    ): Promise<UserRecord> {
      if (id === actor.userId && (changes.disabled === true || changes.role === "user")) {
        throw new ApiError("conflict", "Admins cannot disable or demote their own account");
      }
      const disabled =
        changes.disabled === undefined
          ? sql`disabled_at`
          : changes.disabled
            ? sql`COALESCE(disabled_at, now())`
            : sql`NULL`;
      const [row] = await sql<Row[]>`
        UPDATE users SET disabled_at = ${disabled}, role = COALESCE(${changes.role ?? null}, role)
        WHERE id = ${id}
        RETURNING ${sql.unsafe(COLUMNS)}`;
      if (!row) throw new ApiError("not_found", `No user with id ${id}`);
      return toRecord(row);
    },
  };
}
