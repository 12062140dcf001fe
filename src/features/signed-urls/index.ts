// Signed URLs: GETs that carry their own authorisation, for browsers, emails and CDNs.
export { signedUrlsRoutes } from "./routes/index.ts";
export { SIGNATURE_PARAMS } from "./signature.ts";
export {
  createSignedUrlService,
  SIGNER_CACHE_MS,
  type SignedAccess,
  type SignedUrlService,
} from "./signed-url-service.ts";
