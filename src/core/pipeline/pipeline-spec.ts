import { z } from "zod";
import { RESIZE_KERNELS } from "../formats/codecs.ts";
import { integerIn as int } from "./spec-numbers.ts";

/*
 * The one description of what to do to an image: validated once here, then carried as is in
 * HTTP bodies, render-cache keys and queue messages, and run by one executor (pipeline.ts).
 */

const MAX_SIDE = 16_383; // WebP's limit, and far beyond any sane output

export const FITS = ["cover", "contain", "fill", "inside", "outside"] as const;
export type Fit = (typeof FITS)[number];

export const GRAVITIES = [
  "centre",
  "north",
  "northeast",
  "east",
  "southeast",
  "south",
  "southwest",
  "west",
  "northwest",
] as const;
export const POSITIONS = [...GRAVITIES, "entropy"] as const;
export type Position = (typeof POSITIONS)[number];

const channel = (name: string) => int(name, 0, 255);

/** An RGBA colour as [r, g, b, a], each 0–255, or a #rgb / #rrggbb / #rrggbbaa string. */
export const ColourSchema = z.union([
  z.tuple([channel("r"), channel("g"), channel("b"), channel("a")]),
  z
    .string()
    .regex(
      /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i,
      "Expected #rgb, #rrggbb or #rrggbbaa for background",
    )
    .transform((hex): [number, number, number, number] => {
      const h = hex.length === 4 ? [...hex.slice(1)].map((c) => c + c).join("") : hex.slice(1);
      const v = (i: number) => Number.parseInt(h.slice(i, i + 2), 16);
      return [v(0), v(2), v(4), h.length === 8 ? v(6) : 255];
    }),
]);

const Background = ColourSchema;

export const ResizeOpSchema = z
  .object({
    op: z.literal("resize"),
    width: int("width", 1, MAX_SIDE).optional(),
    height: int("height", 1, MAX_SIDE).optional(),
    fit: z.enum(FITS, { error: `Expected one of ${FITS.join(", ")} for fit` }).default("cover"),
    position: z
      .enum(POSITIONS, { error: `Expected one of ${POSITIONS.join(", ")} for position` })
      .default("centre"),
    background: Background.default([0, 0, 0, 0]),
    withoutEnlargement: z.boolean().default(false),
    kernel: z
      .enum(RESIZE_KERNELS, { error: `Expected one of ${RESIZE_KERNELS.join(", ")} for kernel` })
      .default("lanczos3"),
  })
  .refine((op) => op.width !== undefined || op.height !== undefined, {
    error: "Expected width or height (or both) for resize",
  });

export const CropOpSchema = z.object({
  op: z.literal("crop"),
  left: int("left", 0, MAX_SIDE),
  top: int("top", 0, MAX_SIDE),
  width: int("width", 1, MAX_SIDE),
  height: int("height", 1, MAX_SIDE),
});

export const RotateOpSchema = z.object({
  op: z.literal("rotate"),
  angle: z
    .number({ error: "Expected a number of degrees between -360 and 360 for angle" })
    .min(-360, "Expected a number of degrees between -360 and 360 for angle")
    .max(360, "Expected a number of degrees between -360 and 360 for angle"),
  background: Background.default([0, 0, 0, 0]),
});

export const OperationSchema = z.discriminatedUnion(
  "op",
  [
    ResizeOpSchema,
    CropOpSchema,
    RotateOpSchema,
    z.object({ op: z.literal("flip") }),
    z.object({ op: z.literal("flop") }),
    z.object({ op: z.literal("grayscale") }),
  ],
  { error: "Expected op to be one of resize, crop, rotate, flip, flop, grayscale" },
);

export const OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif", "auto"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const PipelineSpecSchema = z.object({
  operations: z.array(OperationSchema).max(10, "Expected at most 10 operations").default([]),
  format: z
    .enum(OUTPUT_FORMATS, { error: `Expected one of ${OUTPUT_FORMATS.join(", ")} for format` })
    .optional(),
  quality: int("quality", 1, 100).optional(),
  /** JPEG: progressive scans (smaller for large images, slower to encode). */
  progressive: z.boolean().optional(),
  /**
   * JPEG: encode with MozJPEG (trellis quantisation, its own quantisation tables, overshoot
   * deringing) instead of libjpeg-turbo: about a fifth smaller at the same `quality`, 4–5×
   * slower to encode. For outputs encoded once and served often; off by default (thumbnails).
   */
  mozjpeg: z
    .boolean({
      error: (issue) =>
        `Expected true or false for mozjpeg but received ${JSON.stringify(issue.input)}`,
    })
    .optional(),
  /** JPEG: chroma subsampling; 4:4:4 keeps fine colour edges (text, logos). */
  chromaSubsampling: z
    .enum(["4:2:0", "4:4:4"], { error: "Expected 4:2:0 or 4:4:4 for chromaSubsampling" })
    .optional(),
  /** WebP: lossless (exact pixels). */
  lossless: z.boolean().optional(),
  /** AVIF: encoder speed 0 (smallest, slowest) – 10 (fastest). */
  speed: int("speed", 0, 10).optional(),
  autoOrient: z.boolean().default(true),
  /**
   * Copy the source's EXIF block (camera, date, GPS…) into the output; by default outputs carry
   * none. The orientation in it is reset to 1 when the pixels were turned upright.
   */
  keepMetadata: z.boolean().default(false),
});

export type Operation = z.output<typeof OperationSchema>;
export type ResizeOp = z.output<typeof ResizeOpSchema>;
export type PipelineSpec = z.output<typeof PipelineSpecSchema>;
export type PipelineSpecInput = z.input<typeof PipelineSpecSchema>;
