// Renders: derived images (transform) and cached renderings by query (render).
export type { TransformService } from "./render-service.ts";
export { imageRenderRoutes } from "./routes/index.ts";
