/**
 * Image format from the leading bytes (never from a client's Content-Type or file name).
 */

/** Formats the pipeline decodes. */
export type AllowedFormat = "png" | "jpeg" | "webp";

/** Recognised formats we refuse (named so the error can say what was sent). */
export type RefusedFormat = "gif" | "bmp" | "tiff" | "heif" | "avif" | "svg" | "ico" | "jxl";

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}

function ascii(bytes: Uint8Array, at: number, text: string): boolean {
  return startsWith(bytes, Array.from(text, (c) => c.charCodeAt(0)), at);
}

/** The format the bytes claim, `null` when they look like no image format we know. */
export function sniffImageFormat(bytes: Uint8Array): AllowedFormat | RefusedFormat | null {
  if (startsWith(bytes, PNG)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WEBP")) return "webp";
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return "gif";
  if (ascii(bytes, 0, "BM")) return "bmp";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
  if (ascii(bytes, 4, "ftyp")) return ascii(bytes, 8, "avif") || ascii(bytes, 8, "avis") ? "avif" : "heif";
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return "ico";
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, "JXL ")) return "jxl";
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "svg";
  return null;
}

export function isAllowedFormat(format: string | null): format is AllowedFormat {
  return format === "png" || format === "jpeg" || format === "webp";
}
