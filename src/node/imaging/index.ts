export { ImageInputError, type ImageInputErrorCode } from "../../lib/intake/index.js";
export { decodeAccepted, decodeImage, decodingVerifier, verifyAccepted, verifyDecodable } from "./decode.js";
export type { DecodedImage } from "./decode.js";
