import type { Fit } from "../pipeline/pipeline-spec.ts";

export type ResizePlan = {
  /** The size to resample the whole image to. */
  width: number;
  height: number;
  /** cover: the window to cut from the resampled image (where: the op's position). */
  crop?: { width: number; height: number };
  /** contain: the canvas the resampled image is centred on, filled with the background. */
  embed?: { width: number; height: number };
};

/** The size an operation's output will have, from its plan. */
export const plannedSize = (p: ResizePlan) =>
  p.crop ?? p.embed ?? { width: p.width, height: p.height };

const side = (v: number) => Math.max(1, Math.round(v));

/**
 * Sizes for a resize with sharp's `fit` meanings: `cover` fills the box and crops, `contain` fits
 * inside and pads, `fill` stretches, `inside`/`outside` keep the aspect ratio and make the box a
 * maximum/minimum. With one of width/height missing, the other follows the aspect ratio and `fit`
 * does not matter. `withoutEnlargement` never scales up (the output may then be smaller than asked).
 *
 * @example
 * planResize(4000, 3000, { width: 800, height: 800, fit: "inside", withoutEnlargement: false });
 * // { width: 800, height: 600 }
 */
export function planResize(
  srcWidth: number,
  srcHeight: number,
  op: {
    width?: number | undefined;
    height?: number | undefined;
    fit: Fit;
    withoutEnlargement: boolean;
  },
): ResizePlan {
  const targetW = op.width ?? side((srcWidth * (op.height as number)) / srcHeight);
  const targetH = op.height ?? side((srcHeight * (op.width as number)) / srcWidth);
  const clamp = (s: number) => (op.withoutEnlargement ? Math.min(s, 1) : s);
  const sx = targetW / srcWidth;
  const sy = targetH / srcHeight;
  switch (op.fit) {
    case "fill":
      return { width: side(srcWidth * clamp(sx)), height: side(srcHeight * clamp(sy)) };
    case "inside":
    case "outside": {
      const s = clamp(op.fit === "inside" ? Math.min(sx, sy) : Math.max(sx, sy));
      return { width: side(srcWidth * s), height: side(srcHeight * s) };
    }
    case "cover": {
      const s = clamp(Math.max(sx, sy));
      const width = side(srcWidth * s);
      const height = side(srcHeight * s);
      const crop = { width: Math.min(targetW, width), height: Math.min(targetH, height) };
      return crop.width === width && crop.height === height
        ? { width, height }
        : { width, height, crop };
    }
    case "contain": {
      const wanted = Math.min(sx, sy);
      const s = clamp(wanted);
      const width = side(srcWidth * s);
      const height = side(srcHeight * s);
      // Not enlarged: the image stays as it is rather than padded out to a box it cannot fill.
      if (s < wanted || (width === targetW && height === targetH)) return { width, height };
      return { width, height, embed: { width: targetW, height: targetH } };
    }
  }
}

/**
 * How much a JPEG or WebP may be reduced while it is decoded (1/2, 1/4 or 1/8, in the inverse DCT
 * or libwebp's rescaler) before it is resampled to `plan`: sharp's shrink-on-load rule (its default `fastShrinkOnLoad`). The
 * largest factor no greater than the shrink of the less-shrunk axis, so the decoded image keeps
 * at least the planned size, and halved when the shrink's integer part equals it (sharp cites
 * libjpeg's rounding; it also keeps a whole-number shrink such as 4000 → 1000 from handing out
 * the reduced IDCT's output unfiltered). `srcWidth`×`srcHeight` is the size the plan was made
 * for (upright, after EXIF orientation).
 *
 * @example
 * shrinkOnLoadFactor(4000, 3000, { width: 800, height: 600 }); // 4: decode 1000×750
 * shrinkOnLoadFactor(4000, 3000, { width: 1000, height: 750 }); // 2: decode 2000×1500
 */
export function shrinkOnLoadFactor(
  srcWidth: number,
  srcHeight: number,
  plan: { width: number; height: number },
): 1 | 2 | 4 | 8 {
  const shrink = Math.min(srcWidth / plan.width, srcHeight / plan.height);
  const factor = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  if (factor > 1 && Math.floor(shrink) === factor) return (factor / 2) as 2 | 4;
  return factor;
}
