import { z } from "zod";
import { COLOUR_SPACES } from "../analysis/histogram.ts";
import {
  type SegmentationSpec,
  SegmentationSpecSchema,
} from "../segmentation/segmentation-spec.ts";
import { type PipelineSpec, PipelineSpecSchema } from "./pipeline-spec.ts";
import { integerIn } from "./spec-numbers.ts";

/**
 * What a job does to each of its images: the same validated specs as the single-image routes
 * (transform body, histogram query, segmentation body), so a job item runs exactly what the
 * matching request would.
 */

export const HistogramTaskSchema = z.object({
  space: z
    .enum(COLOUR_SPACES, { error: `Expected one of ${COLOUR_SPACES.join(", ")} for space` })
    .default("rgb"),
  bins: integerIn("bins", 1, 256).default(256),
});

export type HistogramTask = z.output<typeof HistogramTaskSchema>;

export const JOB_KINDS = ["transform", "histogram", "segmentation"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export type TaskSpec =
  | { transform: PipelineSpec }
  | { histogram: HistogramTask }
  | { segmentation: SegmentationSpec };

/**
 * `{transform: …} | {histogram: …} | {segmentation: …}`, exactly one key. Written as one object
 * with optional keys rather than a zod union, so that an error inside the chosen task names its
 * field ("Expected an integer between 1 and 256 for bins…") instead of "no union member matched".
 */
export const TaskSpecSchema = z
  .looseObject(
    {
      transform: PipelineSpecSchema.optional(),
      histogram: HistogramTaskSchema.optional(),
      segmentation: SegmentationSpecSchema.optional(),
    },
    { error: "Expected task to be an object" },
  )
  .transform((task, ctx): TaskSpec => {
    const kinds: readonly string[] = JOB_KINDS;
    const unknown = Object.keys(task).filter((k) => !kinds.includes(k));
    const present = JOB_KINDS.filter((k) => task[k] !== undefined);
    if (unknown.length > 0 || present.length !== 1) {
      const received = [...present, ...unknown];
      ctx.addIssue({
        code: "custom",
        message: `Expected task to have exactly one of ${JOB_KINDS.join(", ")} but received ${
          received.length === 0 ? "none" : received.join(" and ")
        }`,
      });
      return z.NEVER;
    }
    if (task.transform) return { transform: task.transform };
    if (task.histogram) return { histogram: task.histogram };
    return { segmentation: task.segmentation as SegmentationSpec };
  });

/**
 * The kind of a task: its one key.
 *
 * @example
 * kindOf({ histogram: { space: "rgb", bins: 64 } }); // "histogram"
 */
export function kindOf(task: TaskSpec): JobKind {
  if ("transform" in task) return "transform";
  if ("histogram" in task) return "histogram";
  return "segmentation";
}
