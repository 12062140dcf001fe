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
    if (this.size === this.cost.length) this.grow();
    let i = this.size++;
    const { cost: cs, a: as, b: bs } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((cs[parent] as number) <= cost) break;
      cs[i] = cs[parent] as number;
      as[i] = as[parent] as number;
      bs[i] = bs[parent] as number;
      i = parent;
    }
    cs[i] = cost;
    as[i] = a;
    bs[i] = b;
  }

  /** Removes the cheapest edge into `out` as [cost, a, b]; false when the heap is empty. */
  pop(out: Float64Array): boolean {
    if (this.size === 0) return false;
    const { cost: cs, a: as, b: bs } = this;
    out[0] = cs[0] as number;
    out[1] = as[0] as number;
    out[2] = bs[0] as number;
    const last = --this.size;
    const cost = cs[last] as number;
    const a = as[last] as number;
    const b = bs[last] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && (cs[child + 1] as number) < (cs[child] as number)) child++;
      if ((cs[child] as number) >= cost) break;
      cs[i] = cs[child] as number;
      as[i] = as[child] as number;
      bs[i] = bs[child] as number;
      i = child;
    }
    cs[i] = cost;
    as[i] = a;
    bs[i] = b;
    return true;
  }

  private grow(): void {
    const cost = new Float64Array(this.cost.length * 2);
    cost.set(this.cost);
    const a = new Int32Array(cost.length);
    a.set(this.a);
    const b = new Int32Array(cost.length);
    b.set(this.b);
    this.cost = cost;
    this.a = a;
    this.b = b;
  }
}
