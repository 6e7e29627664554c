/**
 * Accepted bytes → RGB pixels. Image intake (src/lib/intake `acceptImage`) has sniffed the format,
 * read the sizes from the header and checked the limits; this is only the decode: first frame only
 * (`DECODED_FRAMES`), EXIF orientation applied, alpha flattened onto white, libvips warnings fatal
 * so truncated or corrupt data is refused.
 */
import sharp, { type SharpOptions } from "sharp";
import {
  acceptImage,
  formatLabel,
  ImageInputError,
  type AcceptedFormat,
  type ImageLimits,
} from "../../lib/intake/index.js";
import { DECODED_FRAMES } from "../../lib/limits.js";
import type { AcceptedImage, ImageVerifier } from "../../lib/services.js";

/** A decoded image: `data` is RGB uint8, HWC (row-major pixels, 3 interleaved channels). */
export interface DecodedImage {
  format: AcceptedFormat;
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The pixel limit is the accepted header's own area, so a header that understated the size cannot
 * make the decoder allocate more than what was accepted.
 */
const decodeOptions = (image: AcceptedImage): SharpOptions => ({
  pages: DECODED_FRAMES,
  page: 0,
  limitInputPixels: image.width * image.height,
  failOn: "warning",
});

/** `acceptImage` then `decodeAccepted`: for bytes read back from storage. Throws `ImageInputError`. */
export async function decodeImage(
  bytes: Uint8Array,
  limits: Partial<ImageLimits> = {},
): Promise<DecodedImage> {
  return decodeAccepted(acceptImage(bytes, limits));
}

/** Upright RGB (see `DecodedImage`). Throws `ImageInputError` (`invalid_image`) when the data does not decode. */
export async function decodeAccepted(image: AcceptedImage): Promise<DecodedImage> {
  try {
    const { data, info } = await sharp(image.bytes, decodeOptions(image))
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels`);
    assertHeaderSize(info, image);
    return {
      format: image.format,
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (err) {
    throw undecodable(image, err);
  }
}

/** `acceptImage` then `verifyAccepted`. */
export async function verifyDecodable(
  bytes: Uint8Array,
  limits: Partial<ImageLimits> = {},
): Promise<void> {
  return verifyAccepted(acceptImage(bytes, limits));
}

/**
 * Throws `ImageInputError` exactly when `decodeAccepted` would, without keeping the pixels (and
 * without turning or converting them: that cannot make bytes decodable). The local server's upload
 * check when the pixels are not kept for the job.
 */
export async function verifyAccepted(image: AcceptedImage): Promise<void> {
  try {
    const { info } = await sharp(image.bytes, { ...decodeOptions(image), sequentialRead: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    assertHeaderSize(info, image);
  } catch (err) {
    throw undecodable(image, err);
  }
}

/** The local server's upload verifier when nothing is kept for the job (no model worker to hand pixels to). */
export const decodingVerifier: ImageVerifier = { verify: verifyAccepted };

/**
 * The decoded size must be the header's, turned or not: image-size reads the EXIF orientation of
 * JPEG only, while the decoder also applies one found in PNG or WebP metadata.
 */
function assertHeaderSize(decoded: { width: number; height: number }, image: AcceptedImage): void {
  const { width: w, height: h } = decoded;
  if ((w === image.width && h === image.height) || (w === image.height && h === image.width))
    return;
  throw new Error(`decoded ${w}×${h}, the header said ${image.width}×${image.height}`);
}

function undecodable(image: AcceptedImage, err: unknown): ImageInputError {
  const text = err instanceof Error ? err.message : String(err);
  // libvips messages can be multi-line and name internal paths; keep the first line only.
  const reason = text.split("\n")[0]!.slice(0, 200);
  return new ImageInputError(
    "invalid_image",
    `The ${formatLabel(image.format)} image could not be decoded: ${reason}`,
    { cause: err },
  );
}
