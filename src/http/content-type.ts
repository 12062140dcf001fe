import { ApiError } from "../platform/api-error.ts";

/**
 * The 415 of a body sent without the Content-Type an operation takes: it says what to send, in
 * the header's own words, so that the fix is a copy and paste.
 *
 * @example
 * unsupportedContentType(["application/json"], undefined);
 * // "No Content-Type was sent: send `Content-Type: application/json`"
 * unsupportedContentType(["multipart/form-data"], "application/json", "with `file` parts");
 * // "This operation does not take `application/json`: send `Content-Type: multipart/form-data` with `file` parts"
 */
export function unsupportedContentType(
  accepted: readonly string[],
  received: string | undefined,
  what?: string,
): ApiError {
  const send = accepted.map((type) => `\`Content-Type: ${type}\``).join(" or ");
  const mediaType = received?.split(";")[0]?.trim().toLowerCase();
  const problem = !received
    ? "No Content-Type was sent"
    : accepted.includes(mediaType ?? "")
      ? // A multipart type without its boundary, or without a body.
        `\`${received}\` without a body or boundary`
      : `This operation does not take \`${received}\``;
  return new ApiError(
    "unsupported_media_type",
    `${problem}: send ${send}${what ? ` ${what}` : ""}`,
  );
}
