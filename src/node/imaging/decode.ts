/**
 * Untrusted bytes → RGB pixels, cheaply refusing what we will not process.
 *
 * Order matters for cost: byte limit → format sniffed from the bytes → header read with
 * `sharp().metadata()` (no pixel decode) → pixel limits → full decode (first frame only, EXIF
 * orientation applied, alpha flattened onto white). sharp's own `limitInputPixels` guards the
 * decode as well, in case a header lies.
 */
import sharp, { type Metadata, type SharpOptions } from "sharp";
import { DECODED_FRAMES } from "../../lib/limits.js";
import type { ImageProbe } from "../../lib/services.js";
import { ImageInputError } from "./errors.js";
import { isAllowedFormat, sniffImageFormat } from "./sniff.js";

export interface DecodeLimits {
  /** Largest accepted input in bytes (default 20 MiB). */
  maxBytes: number;
  /** Largest accepted width × height, read from the header (default 40 MP). */
  maxPixels: number;
  /** Largest accepted width or height (default 20 000). */
  maxSide: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 20_000,
});

/** A decoded image: `data` is RGB uint8, HWC (row-major pixels, 3 interleaved channels). */
export interface DecodedImage {
  format: ImageProbe["format"];
  width: number;
  height: number;
  data: Uint8Array;
}

/** Animated images: the first frame only (src/lib/limits.ts `DECODED_FRAMES`). */
const FIRST_FRAME = { pages: DECODED_FRAMES, page: 0 } as const;

/** Full decodes: first frame, pixel limit as a guard should a header lie, libvips warnings fatal. */
const strictOptions = (lim: DecodeLimits): SharpOptions => ({ ...FIRST_FRAME, limitInputPixels: lim.maxPixels, failOn: "warning" });

function resolveDecodeLimits(limits: Partial<DecodeLimits>): DecodeLimits {
  return {
    maxBytes: limits.maxBytes ?? DEFAULT_DECODE_LIMITS.maxBytes,
    maxPixels: limits.maxPixels ?? DEFAULT_DECODE_LIMITS.maxPixels,
    maxSide: limits.maxSide ?? DEFAULT_DECODE_LIMITS.maxSide,
  };
}

/**
 * Header facts (format and UPRIGHT size, i.e. after EXIF orientation) with every limit checked;
 * no pixel is decoded. Throws `ImageInputError`.
 */
export async function probeImage(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): Promise<ImageProbe> {
  const lim = resolveDecodeLimits(limits);
  assertByteLimit(bytes.length, lim);
  const format = sniffImageFormat(bytes);
  if (format === null) throw new ImageInputError("unsupported_media_type", "the bytes are not a PNG, JPEG or WebP image");
  if (!isAllowedFormat(format)) {
    throw new ImageInputError("unsupported_media_type", `${format.toUpperCase()} images are not supported; send PNG, JPEG or WebP`);
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...FIRST_FRAME, limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageInputError("invalid_image", `the ${format.toUpperCase()} header could not be read`, { cause: err });
  }
  const { width, height } = meta;
  if (!(width > 0 && height > 0)) throw new ImageInputError("invalid_image", "the image declares no dimensions");
  assertPixelLimits(width, height, lim);
  // Orientations 5–8 rotate by 90°: the upright image has width and height swapped.
  const swap = (meta.orientation ?? 1) >= 5;
  return { format, width: swap ? height : width, height: swap ? width : height };
}

function assertByteLimit(length: number, lim: DecodeLimits): void {
  if (length > lim.maxBytes) throw new ImageInputError("payload_too_large", `image is ${length} bytes, the limit is ${lim.maxBytes}`);
}

/** Side and pixel limits; symmetric in width and height, so stored or upright sizes give the same answer. */
function assertPixelLimits(width: number, height: number, lim: DecodeLimits): void {
  if (width > lim.maxSide || height > lim.maxSide || width * height > lim.maxPixels) {
    throw new ImageInputError(
      "image_too_large",
      `image is ${width}×${height} pixels; the limits are ${lim.maxPixels} pixels and ${lim.maxSide} per side`,
    );
  }
}

/**
 * The limit checks of `probeImage` for an image decoded elsewhere from `byteLength` bytes (the
 * upload verifier's pixels handed to the extractor): the same refusals, without reading the bytes.
 */
export function assertWithinLimits(byteLength: number, image: Pick<DecodedImage, "width" | "height">, limits: Partial<DecodeLimits> = {}): void {
  const lim = resolveDecodeLimits(limits);
  assertByteLimit(byteLength, lim);
  assertPixelLimits(image.width, image.height, lim);
}

/**
 * Decode to upright RGB (see `DecodedImage`). Limits are checked from the header first
 * (`probeImage`). Throws `ImageInputError` for anything wrong with the bytes, including truncated
 * or corrupt data (libvips warnings are fatal: `failOn: "warning"`).
 */
export async function decodeImage(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): Promise<DecodedImage> {
  return decodeProbedImage(bytes, await probeImage(bytes, limits), limits);
}

/** `decodeImage` for bytes that `probeImage` has already accepted under the same `limits`. */
export async function decodeProbedImage(bytes: Uint8Array, probe: ImageProbe, limits: Partial<DecodeLimits> = {}): Promise<DecodedImage> {
  try {
    const { data, info } = await sharp(bytes, strictOptions(resolveDecodeLimits(limits)))
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels`);
    if (info.width !== probe.width || info.height !== probe.height) {
      throw new Error(`decoded ${info.width}×${info.height}, header said ${probe.width}×${probe.height}`);
    }
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { format: probe.format, width: info.width, height: info.height, data: pixels };
  } catch (err) {
    throw new ImageInputError("invalid_image", `the ${probe.format.toUpperCase()} image could not be decoded: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/**
 * Throws `ImageInputError` exactly when the bytes would not decode (limits, format, truncated or
 * corrupt data), without keeping the pixels: the decoded rows stream past and are dropped, so
 * memory stays flat whatever the size (orientation is skipped: it cannot make bytes decodable).
 * The local server runs it at upload, so bad bytes are refused before anything is stored.
 */
export async function verifyDecodable(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): Promise<void> {
  const probe = await probeImage(bytes, limits);
  try {
    await new Promise<void>((resolve, reject) => {
      const rows = sharp(bytes, { ...strictOptions(resolveDecodeLimits(limits)), sequentialRead: true }).raw();
      rows.on("error", reject).on("end", () => resolve()).on("data", () => undefined);
    });
  } catch (err) {
    throw new ImageInputError("invalid_image", `the ${probe.format.toUpperCase()} image could not be decoded: ${messageOf(err)}`, { cause: err });
  }
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // libvips messages can be multi-line and name internal paths; keep the first line only.
  return text.split("\n")[0]!.slice(0, 200);
}
