/** The one refusal of the integrity check: the public API's 422 `invalid_image`. */
import { ApiError } from "../errors.js";

export type IntegrityFormat = "PNG" | "JPEG" | "WebP";

export const damaged = (format: IntegrityFormat, reason: string): ApiError =>
  new ApiError("invalid_image", `The ${format} image is damaged: ${reason}`);

export const u16be = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
export const u32be = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
export const u32le = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
export const fourcc = (b: Uint8Array, at: number): string =>
  String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
