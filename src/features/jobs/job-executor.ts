import { canonicalJson } from "../../core/lib/encoding.ts";
import type { PipelineSpec } from "../../core/pipeline/pipeline-spec.ts";
import { type HistogramTask, TaskSpecSchema } from "../../core/pipeline/task-spec.ts";
import type { SegmentationSpec } from "../../core/segmentation/segmentation-spec.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Principal } from "../accounts/index.ts";
import type { AnalysisService } from "../analysis/index.ts";
import type { ImageService } from "../images/index.ts";
import type { TransformService } from "../renders/index.ts";
import type { SegmentationService } from "../segmentations/index.ts";
import type { ExecutableItem, ItemExecutor, ItemOutput } from "./types.ts";

const NO_OWNER = "00000000-0000-0000-0000-000000000000";

/**
 * Runs a job item with the same services as the single-image routes. The heavy part (decode,
 * process, encode, in the worker pool) happens first, outside any transaction, and leaves
 * nothing a redelivery could duplicate: a transform's output goes to the content-addressed
 * render cache, a histogram to the analysis cache (both keyed by image and parameters). The
 * result record itself (a derived image, a segmentation) is written by `store`, through the
 * services' own inserts but inside the transaction that marks the item succeeded, so each item
 * has exactly one result however many times it is delivered.
 *
 * @example
 * const executor = createJobExecutor({ images, transforms, analysis, segmentations });
 * const output = await executor({ id, job_id, image_id, owner_id: null, params: { histogram: { space: "rgb", bins: 64 } } });
 */
export function createJobExecutor(deps: {
  images: ImageService;
  transforms: TransformService;
  analysis: AnalysisService;
  segmentations: SegmentationService;
}): ItemExecutor {
  const { images, transforms, analysis, segmentations } = deps;

  /**
   * An item runs with its job owner's rights as they are now. A job without owner was made by
   * the operator (a script, a test), never through the API, which always records who asked.
   */
  const principalOf = (item: ExecutableItem): Principal =>
    item.owner_id
      ? { userId: item.owner_id, role: item.owner_role ?? "user", via: "token", keyId: null }
      : { userId: NO_OWNER, role: "admin", via: "token", keyId: null };

  // Every call into the image services, in one place.
  const call = {
    render: (item: ExecutableItem, spec: PipelineSpec) =>
      transforms.render(principalOf(item), item.image_id, spec),
    histogram: (item: ExecutableItem, task: HistogramTask) =>
      analysis.histogram(principalOf(item), item.image_id, { space: task.space, bins: task.bins }),
    segment: (item: ExecutableItem, spec: SegmentationSpec) =>
      segmentations.compute(principalOf(item), item.image_id, spec),
  };

  async function transform(item: ExecutableItem, spec: PipelineSpec): Promise<ItemOutput> {
    const rendering = await call.render(item, spec);
    // A rendering streamed from the render cache is in the database already: only its size and
    // hash are needed. One held in memory may have been computed just now, its cache write
    // deferred until after a response: its bytes go in with the item's result (a blob written
    // twice is stored once).
    const bytes = rendering.body instanceof Uint8Array ? rendering.body : null;
    if (rendering.body instanceof ReadableStream) await rendering.body.cancel();
    const pipeline = JSON.parse(canonicalJson({ ...spec, format: rendering.format }));
    return {
      result_kind: "image",
      async store(tx) {
        const source = await images.hold(tx, item.image_id);
        const { format, width, height, sha256, byteSize } = rendering;
        const output = bytes
          ? { format, width, height, bytes }
          : { format, width, height, sha256, byteSize };
        return (await images.storeDerived(source, output, pipeline, tx)).id;
      },
    };
  }

  async function histogram(item: ExecutableItem, task: HistogramTask): Promise<ItemOutput> {
    await call.histogram(item, task);
    return {
      result_kind: "histogram",
      // The histogram is the analysis cache's entry for (image, parameters): its id is the image's.
      async store(tx) {
        await images.hold(tx, item.image_id);
        return item.image_id;
      },
    };
  }

  async function segmentation(item: ExecutableItem, spec: SegmentationSpec): Promise<ItemOutput> {
    const { out } = await call.segment(item, spec);
    return {
      result_kind: "segmentation",
      async store(tx) {
        const image = await images.hold(tx, item.image_id);
        return (await segmentations.store(image, spec, out, tx)).id;
      },
    };
  }

  return async (item) => {
    const parsed = TaskSpecSchema.safeParse(item.params);
    if (!parsed.success) {
      throw new ApiError(
        "validation_failed",
        `The job's task is not valid: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
      );
    }
    const task = parsed.data;
    if ("transform" in task) return transform(item, task.transform);
    if ("histogram" in task) return histogram(item, task.histogram);
    return segmentation(item, task.segmentation);
  };
}
