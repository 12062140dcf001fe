import { concatBytes } from "../core/lib/bytes.ts";
import { sha256Hex } from "../core/lib/encoding.ts";

/**
 * Where an upload's bytes wait while they are hashed and checked, before the one transaction that
 * stores them. Runtimes with a filesystem spool to disk (TEMP_IMAGE_DIR); others keep memory.
 */
export interface Spool {
  create(): Promise<SpoolFile>;
}

export interface SpoolFile {
  write(chunk: Uint8Array): Promise<void>;
  /** Ends writing; returns the byte size and the lowercase hex SHA-256 of what was written. */
  finish(): Promise<{ size: number; sha256: string }>;
  /** The bytes written, once finished, in a buffer of the caller's own (it may hand it over). */
  read(): Promise<Uint8Array>;
  /** The bytes written, once finished, as a Blob: a blob store sends them on piece by piece. */
  blob(): Blob;
  /** Forgets the bytes. Safe to call more than once, and before finish(). */
  discard(): Promise<void>;
}

/** A spool in memory, for runtimes without a filesystem: Web APIs only. */
export const memorySpool: Spool = {
  async create() {
    let chunks: Uint8Array[] = [];
    let bytes: Uint8Array<ArrayBuffer> | null = null;
    return {
      async write(chunk) {
        chunks.push(chunk.slice());
      },
      async finish() {
        const whole = concatBytes(chunks);
        chunks = [];
        bytes = whole;
        return { size: whole.length, sha256: await sha256Hex(whole) };
      },
      async read() {
        if (!bytes) throw new Error("spool file read before finish()");
        return bytes.slice();
      },
      blob() {
        if (!bytes) throw new Error("spool file read before finish()");
        return new Blob([bytes]);
      },
      async discard() {
        chunks = [];
        bytes = null;
      },
    };
  },
};
