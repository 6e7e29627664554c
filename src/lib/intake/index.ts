export { acceptImage } from "./accept.js";
export { ImageInputError, type ImageInputErrorCode } from "./errors.js";
export { ACCEPTED_FORMATS, formatLabel, isAcceptedFormat, sniffFormat, type AcceptedFormat, type RefusedFormat } from "./formats.js";
export { assertWithinLimits, DEFAULT_IMAGE_LIMITS, resolveImageLimits, type ImageLimits } from "./limits.js";
export type { AcceptedImage } from "../services.js";
