import { doubled } from "./doubled.ts";

/**
 * Disjoint sets over 0…n-1 in an Int32Array that grows on demand, with path halving. `union`
 * always makes the smaller index the root, so a set's root is its first-made member.
 */
export class UnionFind {
  parent: Int32Array;
  size = 0;

  constructor(capacity = 1024) {
    this.parent = new Int32Array(Math.max(1, capacity));
  }

  /** A new singleton set; returns its index. */
  add(): number {
    if (this.size === this.parent.length) this.parent = doubled(this.parent);
    this.parent[this.size] = this.size;
    return this.size++;
  }

  find(i: number): number {
    const parent = this.parent;
    let x = i;
    while (parent[x] !== x) {
      const up = parent[parent[x] as number] as number;
      parent[x] = up;
      x = up;
    }
    return x;
  }

  /** Joins the sets of a and b; returns the root of the joined set. */
  union(a: number, b: number): number {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return ra;
    if (ra < rb) {
      this.parent[rb] = ra;
      return ra;
    }
    this.parent[ra] = rb;
    return rb;
  }
}
