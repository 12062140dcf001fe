import { describe, expect, test } from "bun:test";
import { createByteLru } from "../../src/core/lib/byte-lru.ts";

const entry = (bytes: number, group = "g") => ({ bytes, group });

describe("createByteLru", () => {
  test("evicts the least recently used once the bytes pass the bound", () => {
    const lru = createByteLru<{ bytes: number; group: string }>(800);
    for (const key of ["a", "b", "c", "d"]) lru.set(key, entry(100));
    expect(lru.bytes).toBe(400);
    lru.get("a"); // now the most recent: b goes first
    for (const key of ["e", "f", "g", "h", "i"]) lru.set(key, entry(100));
    expect(lru.bytes).toBe(800);
    expect(["a", "b", "c", "i"].map((k) => lru.get(k) !== undefined)).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });

  test("a value over an eighth of the bound is not kept; 0 keeps nothing", () => {
    const lru = createByteLru<{ bytes: number; group: string }>(800);
    expect(lru.keeps(100)).toBe(true);
    expect(lru.keeps(101)).toBe(false);
    lru.set("big", entry(101));
    expect(lru.get("big")).toBeUndefined();
    const off = createByteLru<{ bytes: number; group: string }>(0);
    off.set("x", entry(1));
    expect([off.get("x"), off.bytes]).toEqual([undefined, 0]);
  });

  test("replacing a key counts its bytes once", () => {
    const lru = createByteLru<{ bytes: number; group: string }>(800);
    lru.set("a", entry(100));
    lru.set("a", entry(50));
    expect(lru.bytes).toBe(50);
  });

  test("dropGroup forgets a group's values and refuses them afterwards", () => {
    const lru = createByteLru<{ bytes: number; group: string }>(800);
    lru.set("a1", entry(10, "a"));
    lru.set("a2", entry(10, "a"));
    lru.set("b1", entry(10, "b"));
    lru.dropGroup("a");
    expect([lru.get("a1"), lru.get("a2"), lru.get("b1")?.bytes, lru.bytes]).toEqual([
      undefined,
      undefined,
      10,
      10,
    ]);
    // A render finishing after its image was deleted is not kept.
    lru.set("a3", entry(10, "a"));
    expect(lru.get("a3")).toBeUndefined();
  });
});
