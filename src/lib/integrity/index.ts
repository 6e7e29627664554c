/**
 * An upload integrity check that runs anywhere (Web APIs only; the Worker gateway's upload verifier):
 * structural walks of PNG, JPEG and WebP that refuse truncated and corrupt files with 422
 * `invalid_image` before anything is stored, without decoding pixels or holding more than a few
 * stream chunks beyond the upload itself. It is not a decoder: docs/gateway-intake.md lists what it
 * catches and what only the ingest job's full decode can.
 */
import { ApiError } from "../errors.js";
import { isAcceptedFormat, sniffFormat, type AcceptedFormat } from "../intake/index.js";
import type { ImageVerifier } from "../services.js";
import { checkJpeg } from "./jpeg.js";
import { verifyPng } from "./png.js";
import { checkWebp } from "./webp.js";

export { pngRowLayout } from "./png.js";

/** Resolves when the bytes pass; rejects with an ApiError (422 `invalid_image`, 415 for other formats). */
export async function verifyImageIntegrity(bytes: Uint8Array): Promise<void> {
  const format = sniffFormat(bytes);
  if (!isAcceptedFormat(format)) {
    throw new ApiError("unsupported_media_type", "The body is not a PNG, JPEG or WebP image");
  }
  return checkFormat(format, bytes);
}

async function checkFormat(format: AcceptedFormat, bytes: Uint8Array): Promise<void> {
  switch (format) {
    case "png":
      return verifyPng(bytes);
    case "jpeg":
      return checkJpeg(bytes);
    case "webp":
      return checkWebp(bytes);
  }
}

/** The gateway's upload verifier: the intake has sniffed the format already, so it walks that one. */
export const integrityVerifier: ImageVerifier = {
  verify: (image) => checkFormat(image.format, image.bytes),
};
