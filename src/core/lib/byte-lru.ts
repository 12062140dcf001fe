/** What an entry of a ByteLru needs: its size, and the group it is dropped with. */
export type LruEntry = { bytes: number; group: string };

/**
 * The process's hot cache of finished results (renderings, analyses), shared by the features
 * that keep them: each keys its entries with a prefix of its own and knows their `value`. The
 * group is the image id; `owner` is whose the image is, checked on every hit.
 */
export type MemoryCache = ByteLru<LruEntry & { owner: string | null; value: unknown }>;

export type ByteLru<V extends LruEntry> = ReturnType<typeof createByteLru<V>>;

// Ids of dropped groups remembered, so that a value computed before its group was dropped (a
// render finishing just as its image is deleted) is not kept after the drop.
const MAX_DROPPED = 10_000;

/**
 * A least-recently-used map bounded by the bytes of its values rather than their number. Each
 * value belongs to a group (an image id), dropped all at once; a group dropped stays refused
 * (ids are never reused). A value larger than `largest` (by default an eighth of the bound) is
 * not kept: one 40 MB rendering would otherwise push out thousands of thumbnails. `maxBytes` 0
 * keeps nothing.
 *
 * @example
 * const lru = createByteLru<{ bytes: number; group: string; body: Uint8Array }>(1024 ** 2);
 * lru.set("k", { bytes: 3, group: "image-1", body: new Uint8Array(3) });
 * lru.get("k"); // the value, now the most recently used
 * lru.dropGroup("image-1"); // gone, and "image-1" values are refused from now on
 */
export function createByteLru<V extends LruEntry>(
  maxBytes: number,
  { largest = maxBytes / 8 }: { largest?: number } = {},
) {
  // A Map iterates in insertion order: re-inserting on use makes the first key the least used.
  const entries = new Map<string, V>();
  const groups = new Map<string, Set<string>>();
  const dropped = new Set<string>();
  let used = 0;

  function remove(key: string) {
    const value = entries.get(key);
    if (!value) return;
    entries.delete(key);
    used -= value.bytes;
    const members = groups.get(value.group);
    members?.delete(key);
    if (members?.size === 0) groups.delete(value.group);
  }

  return {
    get(key: string): V | undefined {
      const value = entries.get(key);
      if (value) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },

    /** True when a value of `bytes` would be kept (worth reading a stream whole for it). */
    keeps(bytes: number): boolean {
      return bytes <= largest;
    },

    set(key: string, value: V): void {
      if (value.bytes > largest || dropped.has(value.group)) return;
      remove(key);
      entries.set(key, value);
      used += value.bytes;
      const members = groups.get(value.group) ?? new Set<string>();
      groups.set(value.group, members.add(key));
      for (const oldest of entries.keys()) {
        if (used <= maxBytes) break;
        remove(oldest);
      }
    },

    /** Forgets every value of `group` and refuses its values from now on. */
    dropGroup(group: string): void {
      for (const key of groups.get(group) ?? []) remove(key);
      dropped.add(group);
      if (dropped.size > MAX_DROPPED) {
        const [oldest] = dropped;
        if (oldest !== undefined) dropped.delete(oldest);
      }
    },

    /** Bytes held now. */
    get bytes(): number {
      return used;
    },
  };
}
