import type { AcceptedFormat } from "./formats.js";

/**
 * Bytes that passed image intake (`acceptImage`): an accepted format, its sizes read
 * from the header only, within the limits. Checks after it (the verifier, the upload prefetch) take
 * this, not bytes, so nothing sniffs or reads the header a second time.
 */
export interface AcceptedImage {
  readonly bytes: Uint8Array;
  readonly format: AcceptedFormat;
  /** The content type the image is stored and served with (from the format, never from the client). */
  readonly contentType: string;
  /**
   * Header sizes, upright where the header says how (JPEG EXIF orientation); an orientation only in
   * PNG or WebP metadata is applied by the decoder, whose sizes may then be these two swapped.
   */
  readonly width: number;
  readonly height: number;
}
