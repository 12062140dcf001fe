/*
 * Pixel kernels over RgbaImage, hand-written on typed arrays: pure functions with no I/O that
 * never mutate their input and always return a new image (a copy when nothing changes), so
 * callers may keep both. Bad parameters throw RangeErrors worded like sharp's, naming the
 * parameter, the allowed range and the value received.
 */
export { grayscaleRgba } from "./kernels/colour.ts";
export { entropyCropOffset } from "./kernels/entropy.ts";
export {
  cropRgba,
  flipRgba,
  flopRgba,
  rotateRgba,
  rotateRightAngle,
} from "./kernels/geometry.ts";
export { type ResampleFilter, resampleWeights } from "./kernels/resample.ts";
export { shrinkFactorsFor } from "./kernels/shrink.ts";
