/**
 * The one header check of image intake, cheapest first: byte limit → format from the magic bytes →
 * sizes from the header only (`image-size`, pure JS, so it runs on Workers too) → side and pixel
 * limits. An oversized or non-image input is refused before anything is decoded or stored.
 */
import { imageSize } from "image-size";
import type { AcceptedImage } from "./accepted-image.js";
import { ImageInputError } from "./errors.js";
import {
  ACCEPTED_FORMATS,
  formatLabel,
  isAcceptedFormat,
  sniffFormat,
  type AcceptedFormat,
} from "./formats.js";
import { assertByteLimit, assertSizeLimits, type ImageLimits } from "./limits.js";

/** The bytes as an `AcceptedImage`, or an `ImageInputError` saying why not. */
export function acceptImage(bytes: Uint8Array, limits: Partial<ImageLimits> = {}): AcceptedImage {
  assertByteLimit(bytes.byteLength, limits);
  const format = sniffFormat(bytes);
  if (format === null)
    throw new ImageInputError(
      "unsupported_media_type",
      "The bytes are not a PNG, JPEG or WebP image",
    );
  if (!isAcceptedFormat(format)) {
    throw new ImageInputError(
      "unsupported_media_type",
      `${formatLabel(format)} images are not supported; send PNG, JPEG or WebP`,
    );
  }
  const { width, height } = readHeader(bytes, format);
  assertSizeLimits({ width, height }, limits);
  return { bytes, format, contentType: ACCEPTED_FORMATS[format], width, height };
}

/** Header sizes, upright when the header carries an EXIF orientation that image-size reads (JPEG). */
function readHeader(bytes: Uint8Array, format: AcceptedFormat): { width: number; height: number } {
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch (err) {
    throw new ImageInputError(
      "invalid_image",
      `The ${formatLabel(format)} header could not be read`,
      { cause: err },
    );
  }
  const { width, height } = size;
  if (!(width > 0 && height > 0))
    throw new ImageInputError("invalid_image", "The image declares no dimensions");
  // Orientations 5–8 turn the image by 90°: upright, its sides are swapped.
  return (size.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}
