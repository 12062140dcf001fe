/**
 * `photo.final.JPG` → `photo.final`, restricted to characters every unzip, mail client and
 * `Content-Disposition` header accepts (and so safe to quote as is).
 *
 * @example
 * filenameStem("My photo (1).jpg", "image"); // "My_photo_1_"
 * filenameStem(null, "image"); // "image"
 */
export function filenameStem(filename: string | null, fallback: string): string {
  const base = (filename ?? "").replace(/\.[^.]*$/, "");
  const safe = base
    .replace(/[^\w.-]+/g, "_")
    .replace(/^[._]+/, "")
    .slice(0, 80);
  return safe || fallback;
}
