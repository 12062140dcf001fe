/**
 * Hashes and checks passwords. Every implementation writes and reads PHC strings
 * (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so hashes made by one adapter verify with another.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Constant-time comparison; false for a wrong password or a malformed hash. Anything else (the
   * hasher itself failing) throws: it must not pass for a wrong password.
   */
  verify(password: string, hash: string): Promise<boolean>;
}

/**
 * OWASP's first argon2id recommendation (Password Storage Cheat Sheet): 19 MiB, 2 passes, one
 * lane. Light enough for an edge isolate's memory, and about 50–100 ms of one core per check.
 */
export const ARGON2_PARAMS = { memoryKiB: 19_456, iterations: 2, parallelism: 1 } as const;

/** The file of the Argon2 reference implementation built for wasm32 (wasm/argon2/README.md). */
export const ARGON2_WASM_FILE = "wasm/argon2/argon2.wasm";

type Argon2Exports = {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  argon2id_hash_encoded(
    t: number,
    m: number,
    p: number,
    pwd: number,
    pwdLen: number,
    salt: number,
    saltLen: number,
    hashLen: number,
    encoded: number,
    encodedLen: number,
  ): number;
  argon2id_verify(encoded: number, pwd: number, pwdLen: number): number;
  argon2_encodedlen(
    t: number,
    m: number,
    p: number,
    saltLen: number,
    hashLen: number,
    type: number,
  ): number;
};

// argon2.h's codes that mean "this password does not match this string": a mismatch (-35), a
// string that does not decode (-32, -34), names another type (-26) or has parameters out of
// range (-1 to -17). Out of memory, or any other code, is the hasher failing.
const NOT_MATCHING = new Set([-35, -34, -32, -26, ...Array.from({ length: 17 }, (_, i) => -1 - i)]);
const ARGON2_TYPE_ID = 2;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Argon2's own failure (out of memory, an unexpected code), never a wrong password. */
export class Argon2Error extends Error {}

/**
 * The portable adapter: argon2id by the reference implementation compiled to WebAssembly
 * (wasm/argon2), instantiated from a module compiled ahead of time: edge runtimes refuse to
 * compile wasm bytes at run time, and Bun compiles the file once. One instance per hasher; each
 * call runs synchronously on it, so calls never interleave.
 *
 * @example
 * const hasher = wasmPasswordHasher(() => loadProjectWasm(ARGON2_WASM_FILE));
 * const hash = await hasher.hash("correct horse battery"); // "$argon2id$v=19$m=19456,t=2,p=1$…"
 * await hasher.verify("correct horse battery", hash); // true
 */
export function wasmPasswordHasher(
  load: () => Promise<WebAssembly.Module>,
): PasswordHasher & { memoryBytes(): number } {
  let instance: Promise<Argon2Exports> | undefined;
  let memory: WebAssembly.Memory | undefined;
  const argon2 = () => {
    instance ??= load().then(async (module) => {
      const x = (await WebAssembly.instantiate(module, {})).exports as Argon2Exports;
      memory = x.memory;
      return x;
    });
    // A failed load is tried again by the next call rather than kept.
    instance.catch(() => {
      instance = undefined;
    });
    return instance;
  };
  const utf8 = new TextEncoder();

  /** Copies `bytes` (NUL-terminated) into the module, runs `use`, frees them. */
  function withBytes<T>(x: Argon2Exports, bytes: Uint8Array[], use: (ptrs: number[]) => T): T {
    const ptrs: number[] = [];
    // The password leaves no copy behind in the module's memory.
    const wipe = () => {
      const heap = new Uint8Array(x.memory.buffer);
      ptrs.forEach((ptr, i) => {
        heap.fill(0, ptr, ptr + (bytes[i] as Uint8Array).length + 1);
      });
    };
    try {
      for (const b of bytes) {
        const ptr = x.malloc(b.length + 1);
        if (ptr === 0) throw new Argon2Error("Argon2 is out of memory");
        ptrs.push(ptr);
        const view = new Uint8Array(x.memory.buffer, ptr, b.length + 1);
        view.set(b);
        view[b.length] = 0;
      }
      return use(ptrs);
    } finally {
      wipe();
      for (const ptr of ptrs) x.free(ptr);
    }
  }

  return {
    /** The module's linear memory in bytes (0 before the first use): tests watch it. */
    memoryBytes: () => memory?.buffer.byteLength ?? 0,
    async hash(password) {
      const x = await argon2();
      const { memoryKiB: m, iterations: t, parallelism: p } = ARGON2_PARAMS;
      const length = x.argon2_encodedlen(t, m, p, SALT_BYTES, HASH_BYTES, ARGON2_TYPE_ID);
      const pwd = utf8.encode(password);
      const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
      return withBytes(x, [pwd, salt, new Uint8Array(length)], ([pwdPtr, saltPtr, outPtr]) => {
        const code = x.argon2id_hash_encoded(
          t,
          m,
          p,
          pwdPtr as number,
          pwd.length,
          saltPtr as number,
          SALT_BYTES,
          HASH_BYTES,
          outPtr as number,
          length,
        );
        if (code !== 0) throw new Argon2Error(`Argon2 failed to hash (code ${code})`);
        const out = new Uint8Array(x.memory.buffer, outPtr, length);
        return new TextDecoder().decode(out.subarray(0, out.indexOf(0)));
      });
    },
    async verify(password, hash) {
      if (!hash.startsWith("$argon2id$")) return false;
      const x = await argon2();
      const pwd = utf8.encode(password);
      const code = withBytes(x, [utf8.encode(hash), pwd], ([h, p]) =>
        x.argon2id_verify(h as number, p as number, pwd.length),
      );
      if (code === 0) return true;
      if (NOT_MATCHING.has(code)) return false;
      throw new Argon2Error(`Argon2 failed to verify (code ${code})`);
    },
  };
}
