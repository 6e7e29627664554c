/**
 * The one error type of the image decoder. `code` is one of the public API's error codes, so the
 * API (src/lib/errors.ts `isImageInputError`) maps it to a status without importing src/node:
 * `unsupported_media_type` → 415, `payload_too_large` → 413, `image_too_large` → 413,
 * `invalid_image` → 422. Retrying the same bytes can never succeed.
 */
export type ImageInputErrorCode = "unsupported_media_type" | "payload_too_large" | "image_too_large" | "invalid_image";

export class ImageInputError extends Error {
  override readonly name = "ImageInputError";

  constructor(
    readonly code: ImageInputErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
