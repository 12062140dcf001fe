// What other features use of images: the service (through the request context), its records,
// the image id parameter and schema of the routes under /v1/images, and the upload outcome
// types that job submission shares.
export type { ImageRecord, ImageService, IncomingFile } from "./image-service.ts";
export type { Quota } from "./quota.ts";
export { imagesRoutes } from "./routes/index.ts";
export {
  ImageIdParams,
  ImageSchema,
  UploadErrorSchema,
  UploadResultSchema,
} from "./routes/schemas.ts";
export { nothingStored, refused, uploadBody } from "./routes/upload.ts";
