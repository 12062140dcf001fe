// Segmentations: regions of an image, their masks.
export { imageSegmentationsRoutes, segmentationsRoutes } from "./routes/index.ts";
export type { SegmentationService } from "./segmentation-service.ts";
