export { ImageInputError } from "./errors.js";
export type { ImageInputErrorCode } from "./errors.js";
export { assertWithinLimits, DEFAULT_DECODE_LIMITS, decodeImage, decodeProbedImage, probeImage, verifyDecodable } from "./decode.js";
export { DecodedImageCache, sameBytes } from "./decoded-cache.js";
export type { DecodedImage, DecodeLimits } from "./decode.js";
export { isAllowedFormat, sniffImageFormat } from "./sniff.js";
export type { AllowedFormat, RefusedFormat } from "./sniff.js";
