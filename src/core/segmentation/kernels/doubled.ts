/**
 * A copy of `a` in a typed array of the same kind, twice as long: how the segmentation's
 * run, edge and region tables grow as they fill.
 *
 * @example
 * doubled(new Int32Array([1, 2])); // Int32Array [1, 2, 0, 0]
 */
export function doubled<T extends Int32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (length: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
