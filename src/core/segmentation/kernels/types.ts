import { expectInteger } from "../../imaging/kernels/validate.ts";

/** A mask over a width × height grid, row-major: 1 = foreground, 0 = background. */
export type BinaryMask = { data: Uint8Array; width: number; height: number };

/**
 * Regions over a width × height grid, row-major: 0 is background, 1…count the regions. Every
 * label in 1…count is used by at least one pixel.
 */
export type LabelMap = { labels: Uint32Array; width: number; height: number; count: number };

/** How the pixels of a region touch: by edges (4) or by edges and corners (8). */
export type Connectivity = 4 | 8;

/** Throws a RangeError unless the grid is width × height with `length` cells. */
export function expectGrid(what: string, length: number, width: number, height: number): void {
  expectInteger("width", width, 1, 2 ** 30);
  expectInteger("height", height, 1, 2 ** 30);
  if (length !== width * height) {
    throw new RangeError(
      `Expected ${width * height} ${what} for a ${width}×${height} image but received ${length}`,
    );
  }
}

/** Throws a RangeError unless `connectivity` is 4 or 8. */
export function expectConnectivity(connectivity: number): asserts connectivity is Connectivity {
  if (connectivity !== 4 && connectivity !== 8) {
    throw new RangeError(`Expected 4 or 8 for connectivity but received ${connectivity}`);
  }
}

/** The neighbours of a pixel as [dx, dy], for flood fills: edges first, then corners. */
export const NEIGHBOURS: Record<Connectivity, readonly (readonly [number, number])[]> = {
  4: [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
  ],
  8: [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
    [1, 1],
    [-1, 1],
    [1, -1],
    [-1, -1],
  ],
};
