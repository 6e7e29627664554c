/** Decoding images on Node (sharp): the pixels for the extractor and the decoding upload verifier. */
export {
  decodeAccepted,
  decodeImage,
  decodingVerifier,
  verifyAccepted,
  verifyDecodable,
} from "./decode.js";
export type { DecodedImage } from "./decode.js";
