import { z } from "@hono/zod-openapi";
import { IMAGE_FORMATS } from "../../../core/formats/probe.ts";

export const ImageIdParams = z.object({
  id: z.uuid({ error: "Expected an image id (a UUID)" }).openapi({
    param: { name: "id", in: "path" },
    example: "019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b",
  }),
});

export const ImageSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid().nullable(),
    filename: z.string().nullable(),
    format: z.enum(IMAGE_FORMATS).openapi({ description: "Judged from the file's magic bytes." }),
    width: z.number().int().openapi({ description: "Display width: EXIF orientation applied." }),
    height: z.number().int().openapi({ description: "Display height: EXIF orientation applied." }),
    orientation: z
      .number()
      .int()
      .min(1)
      .max(8)
      .openapi({ description: "EXIF orientation as stored." }),
    byte_size: z.number().int(),
    sha256: z
      .string()
      .openapi({ description: "Hex SHA-256 of the stored bytes; also the file's ETag." }),
    source_id: z.uuid().nullable().openapi({ description: "For a derived image: its source." }),
    pipeline: z.unknown().openapi({ description: "For a derived image: the canonical pipeline." }),
    created_at: z.iso.datetime(),
  })
  .openapi("Image");

export const UploadErrorSchema = z
  .object({
    index: z
      .number()
      .int()
      .openapi({ description: "Position of the file part in the request, from 0." }),
    filename: z.string().nullable(),
    status: z.number().int(),
    title: z.string(),
    detail: z.string(),
  })
  .openapi("UploadError");

export const UploadResultSchema = z
  .object({ images: z.array(ImageSchema), errors: z.array(UploadErrorSchema) })
  .openapi("UploadResult");
