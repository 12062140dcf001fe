// Analyses of an image: histogram and palette.
export type { AnalysisService } from "./analysis-service.ts";
export { imageAnalysisRoutes } from "./routes/index.ts";
