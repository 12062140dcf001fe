/** Who a signable path belongs to: the resource whose owner must be able to read it. */
export type SignableTarget = { kind: "image" | "segmentation" | "job"; id: string };

const ID = "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})";

// Every GET a browser or a CDN may need to load without a credential: what an <img>, a link in
// an email or an EventSource points at. Nothing that writes.
const SIGNABLE: readonly [RegExp, SignableTarget["kind"]][] = [
  [new RegExp(`^/v1/images/${ID}(?:/(?:render|file|histogram|palette))?$`), "image"],
  [new RegExp(`^/v1/segmentations/${ID}(?:/mask)?$`), "segmentation"],
  [new RegExp(`^/v1/jobs/${ID}(?:/(?:items|events|results\\.zip))?$`), "job"],
];

/**
 * The resource behind `path` when a signed URL may point at it, else null.
 *
 * @example
 * signableTarget("/v1/images/0b6e…/render"); // { kind: "image", id: "0b6e…" }
 * signableTarget("/v1/api-keys"); // null
 */
export function signableTarget(path: string): SignableTarget | null {
  for (const [pattern, kind] of SIGNABLE) {
    const id = pattern.exec(path)?.[1];
    if (id) return { kind, id: id.toLowerCase() };
  }
  return null;
}
