import { doubled } from "./doubled.ts";

/** A binary min-heap of (cost, a, b) edges in parallel typed arrays that grow on demand. */
export class EdgeHeap {
  private cost: Float64Array;
  private a: Int32Array;
  private b: Int32Array;
  size = 0;

  constructor(capacity = 1024) {
    this.cost = new Float64Array(Math.max(1, capacity));
    this.a = new Int32Array(this.cost.length);
    this.b = new Int32Array(this.cost.length);
  }

  push(cost: number, a: number, b: number): void {
    if (this.size === this.cost.length) {
      this.cost = doubled(this.cost);
      this.a = doubled(this.a);
      this.b = doubled(this.b);
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.cost[parent] as number) <= cost) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, cost, a, b);
  }

  /** Removes the cheapest edge into `out` as [cost, a, b]; false when the heap is empty. */
  pop(out: Float64Array): boolean {
    if (this.size === 0) return false;
    const cs = this.cost;
    out[0] = cs[0] as number;
    out[1] = this.a[0] as number;
    out[2] = this.b[0] as number;
    // The last entry sifts down from the root.
    const last = --this.size;
    const cost = cs[last] as number;
    const a = this.a[last] as number;
    const b = this.b[last] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && (cs[child + 1] as number) < (cs[child] as number)) child++;
      if ((cs[child] as number) >= cost) break;
      this.move(child, i);
      i = child;
    }
    this.set(i, cost, a, b);
    return true;
  }

  private move(from: number, to: number): void {
    this.set(to, this.cost[from] as number, this.a[from] as number, this.b[from] as number);
  }

  private set(i: number, cost: number, a: number, b: number): void {
    this.cost[i] = cost;
    this.a[i] = a;
    this.b[i] = b;
  }
}
