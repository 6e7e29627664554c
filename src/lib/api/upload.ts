/**
 * Upload intake for POST /v1/images: read the bytes (raw body or multipart field `file`), sniff the
 * real format from magic bytes and read the dimensions from the header only (`image-size`, pure JS),
 * so an oversized or non-image upload is refused before anything is stored or decoded.
 */
import type { Context } from "hono";
import { imageSize } from "image-size";
import { ApiError } from "../errors.js";
import type { Limits } from "../limits.js";
import type { ImageProbe } from "../services.js";

export const ACCEPTED_TYPES: Record<ImageProbe["format"], string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
};
const ACCEPTED_CONTENT_TYPES = new Set([...Object.values(ACCEPTED_TYPES), "image/jpg"]);

/** Formats recognised only to say clearly that they are not supported. */
type Sniffed = ImageProbe["format"] | "gif" | "bmp" | "tiff" | "avif/heif";

function startsWith(bytes: Uint8Array, sig: readonly number[], offset = 0): boolean {
  return sig.every((b, i) => bytes[offset + i] === b);
}

const ascii = (s: string): number[] => [...s].map((ch) => ch.charCodeAt(0));

/** Format from magic bytes; `null` when the bytes look like no image at all. */
export function sniffFormat(bytes: Uint8Array): Sniffed | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "webp";
  if (startsWith(bytes, ascii("GIF8"))) return "gif";
  if (startsWith(bytes, ascii("BM"))) return "bmp";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
  if (startsWith(bytes, ascii("ftyp"), 4)) return "avif/heif";
  return null;
}

/** Header-only probe: allowlisted format and the pixel limits, checked before any decode. */
export function probeImage(bytes: Uint8Array, limits: Limits): ImageProbe {
  const format = sniffFormat(bytes);
  if (format === null) throw new ApiError("unsupported_media_type", "The body is not a PNG, JPEG or WebP image");
  if (format !== "png" && format !== "jpeg" && format !== "webp") {
    throw new ApiError("unsupported_media_type", `${format.toUpperCase()} images are not supported; send PNG, JPEG or WebP`);
  }
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    throw new ApiError("invalid_image", `The ${format.toUpperCase()} header could not be read`);
  }
  const { width, height } = size;
  if (!width || !height) throw new ApiError("invalid_image", "The image declares no dimensions");
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels) {
    throw new ApiError(
      "image_too_large",
      `Image is ${width}×${height}; the limits are ${limits.maxSide} pixels per side and ${limits.maxPixels} pixels in all`,
    );
  }
  // EXIF orientations 5–8 rotate by 90°: the decoded image has its sides swapped.
  const swapped = (size.orientation ?? 1) >= 5;
  return { format, width: swapped ? height : width, height: swapped ? width : height };
}

/** The uploaded bytes, from a raw image body or the multipart field `file`. */
export async function readUpload(c: Context): Promise<Uint8Array> {
  const contentType = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (contentType === "multipart/form-data") return readMultipartFile(c);
  if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
    throw new ApiError(
      "unsupported_media_type",
      "Content-Type must be image/png, image/jpeg, image/webp, multipart/form-data or application/json ({url})",
    );
  }
  return new Uint8Array(await c.req.arrayBuffer());
}

async function readMultipartFile(c: Context): Promise<Uint8Array> {
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw ApiError.invalid("Malformed multipart/form-data body");
  }
  const file = form.get("file");
  if (file === null || typeof file === "string") throw ApiError.invalid("Multipart field `file` (a file) is required");
  return new Uint8Array(await file.arrayBuffer());
}

/** Lower-case hex SHA-256 (Web Crypto, so it runs on Workers too). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
