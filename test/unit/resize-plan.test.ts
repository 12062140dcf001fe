import { describe, expect, test } from "bun:test";
import { plannedSize, planResize } from "../../src/core/imaging/resize-plan.ts";
import type { Fit } from "../../src/core/pipeline/pipeline-spec.ts";

// Box 400×300 (4:3). Inputs: larger same aspect, larger other aspect, smaller same aspect,
// smaller other aspect. Expected output sizes follow sharp's documented fit semantics.
const INPUTS = {
  "larger, same aspect": [800, 600],
  "larger, other aspect": [1000, 500],
  "smaller, same aspect": [200, 150],
  "smaller, other aspect": [100, 200],
} as const;

const EXPECTED: Record<Fit, Record<keyof typeof INPUTS, [number, number]>> = {
  cover: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 300],
    "smaller, same aspect": [400, 300],
    "smaller, other aspect": [400, 300],
  },
  contain: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 300],
    "smaller, same aspect": [400, 300],
    "smaller, other aspect": [400, 300],
  },
  fill: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 300],
    "smaller, same aspect": [400, 300],
    "smaller, other aspect": [400, 300],
  },
  inside: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 200],
    "smaller, same aspect": [400, 300],
    "smaller, other aspect": [150, 300],
  },
  outside: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [600, 300],
    "smaller, same aspect": [400, 300],
    "smaller, other aspect": [400, 800],
  },
};

// withoutEnlargement: nothing grows; smaller inputs keep their size (cover/contain do not pad or
// crop beyond what the input has).
const WITHOUT_ENLARGEMENT: Record<Fit, Record<keyof typeof INPUTS, [number, number]>> = {
  cover: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 300],
    "smaller, same aspect": [200, 150],
    "smaller, other aspect": [100, 200],
  },
  contain: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 300],
    "smaller, same aspect": [200, 150],
    "smaller, other aspect": [100, 200],
  },
  fill: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 300],
    "smaller, same aspect": [200, 150],
    "smaller, other aspect": [100, 200],
  },
  inside: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [400, 200],
    "smaller, same aspect": [200, 150],
    "smaller, other aspect": [100, 200],
  },
  outside: {
    "larger, same aspect": [400, 300],
    "larger, other aspect": [600, 300],
    "smaller, same aspect": [200, 150],
    "smaller, other aspect": [100, 200],
  },
};

describe("planResize", () => {
  for (const [table, withoutEnlargement] of [
    [EXPECTED, false],
    [WITHOUT_ENLARGEMENT, true],
  ] as const) {
    for (const fit of Object.keys(table) as Fit[]) {
      test(`fit=${fit}${withoutEnlargement ? " withoutEnlargement" : ""}: output sizes for each kind of input`, () => {
        for (const [name, [w, h]] of Object.entries(INPUTS)) {
          const plan = planResize(w, h, { width: 400, height: 300, fit, withoutEnlargement });
          const { width, height } = plannedSize(plan);
          expect([name, width, height]).toEqual([name, ...table[fit][name as keyof typeof INPUTS]]);
        }
      });
    }
  }

  test("cover resamples to cover the box, then crops; contain fits, then pads", () => {
    expect(
      planResize(1000, 500, { width: 400, height: 300, fit: "cover", withoutEnlargement: false }),
    ).toEqual({
      width: 600,
      height: 300,
      crop: { width: 400, height: 300 },
    });
    expect(
      planResize(1000, 500, { width: 400, height: 300, fit: "contain", withoutEnlargement: false }),
    ).toEqual({
      width: 400,
      height: 200,
      embed: { width: 400, height: 300 },
    });
  });

  test("one dimension: the other follows the aspect ratio, whatever the fit", () => {
    for (const fit of ["cover", "contain", "fill", "inside", "outside"] as const) {
      expect(
        plannedSize(planResize(4000, 3000, { width: 800, fit, withoutEnlargement: false })),
      ).toEqual({
        width: 800,
        height: 600,
      });
      expect(
        plannedSize(planResize(4000, 3000, { height: 300, fit, withoutEnlargement: false })),
      ).toEqual({
        width: 400,
        height: 300,
      });
    }
  });
});
