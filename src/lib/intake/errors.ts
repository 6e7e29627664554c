/**
 * The one error type of image intake, thrown by the header check here and by the Node decoder
 * (src/node/imaging). `code` is one of the public API's error codes, so `toApiError` maps it to a
 * status (src/lib/errors.ts `isImageInputError`, by shape, as errors revived from the model worker
 * thread are plain Errors with the same `code`): `unsupported_media_type` → 415,
 * `payload_too_large` → 413, `image_too_large` → 413, `invalid_image` → 422. Retrying the same bytes
 * can never succeed.
 */
export type ImageInputErrorCode =
  "unsupported_media_type" | "payload_too_large" | "image_too_large" | "invalid_image";

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
