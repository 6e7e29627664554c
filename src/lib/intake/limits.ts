/**
 * What an image may weigh and measure: one type and one set of defaults for every place that checks
 * an image — the API's header check, the gateway, the ingest function's storage sync and the Node
 * decoder (src/lib/limits.ts `Limits` extends it, so the API's limits are these ones).
 */
import { ImageInputError } from "./errors.js";

export interface ImageLimits {
  /** Largest accepted image in bytes; the API applies it to the whole upload body (raw or multipart). */
  maxUploadBytes: number;
  /** Largest accepted width × height, read from the header before any decode. */
  maxPixels: number;
  /** Largest accepted width or height. */
  maxSide: number;
}

/**
 * The one set of defaults, which every entry's environment falls back to. `maxSide` is the
 * documented 10 000 px (README, "Configuration and limits"), the limit the API has always enforced.
 */
export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxUploadBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 10_000,
});

/** The defaults, overridden by whichever limits are set (undefined ones do not count). */
function resolveImageLimits(limits: Partial<ImageLimits> = {}): ImageLimits {
  return {
    maxUploadBytes: limits.maxUploadBytes ?? DEFAULT_IMAGE_LIMITS.maxUploadBytes,
    maxPixels: limits.maxPixels ?? DEFAULT_IMAGE_LIMITS.maxPixels,
    maxSide: limits.maxSide ?? DEFAULT_IMAGE_LIMITS.maxSide,
  };
}

/**
 * The byte, side and pixel limits, for a header just read (`acceptImage`) or for pixels decoded
 * elsewhere from `byteLength` bytes (an upload's pixels handed to the extractor): the same refusals.
 */
export function assertWithinLimits(
  byteLength: number,
  size: { width: number; height: number },
  limits: Partial<ImageLimits> = {},
): void {
  const lim = resolveImageLimits(limits);
  assertByteLimit(byteLength, lim);
  assertSizeLimits(size, lim);
}

export function assertByteLimit(byteLength: number, limits: Partial<ImageLimits> = {}): void {
  const { maxUploadBytes } = resolveImageLimits(limits);
  if (byteLength > maxUploadBytes)
    throw new ImageInputError(
      "payload_too_large",
      `Image is ${byteLength} bytes; the limit is ${maxUploadBytes}`,
    );
}

/** Symmetric in width and height, so stored and upright sizes get the same answer. */
export function assertSizeLimits(
  { width, height }: { width: number; height: number },
  limits: Partial<ImageLimits> = {},
): void {
  const { maxSide, maxPixels } = resolveImageLimits(limits);
  if (width > maxSide || height > maxSide || width * height > maxPixels) {
    throw new ImageInputError(
      "image_too_large",
      `Image is ${width}×${height}; the limits are ${maxSide} pixels per side and ${maxPixels} pixels in all`,
    );
  }
}
