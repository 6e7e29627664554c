/** Image intake, anywhere: the one format sniffer, the one header check and the one set of image limits. */
export { acceptImage } from "./accept.js";
export { ImageInputError } from "./errors.js";
export {
  ACCEPTED_FORMATS,
  formatLabel,
  isAcceptedFormat,
  sniffFormat,
  type AcceptedFormat,
} from "./formats.js";
export { assertWithinLimits, DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./limits.js";
export type { AcceptedImage } from "./accepted-image.js";
