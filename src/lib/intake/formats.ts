/**
 * The one format sniffer of image intake: the format is read from the leading bytes, never from a
 * client's Content-Type or file name. The API, the gateway's integrity check, the ingest function's
 * storage sync and the Node decoder all ask this one, so they accept exactly the same formats.
 */

/** Formats we decode, and the content type each is stored and served with. */
export const ACCEPTED_FORMATS = Object.freeze({
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
} as const);

export type AcceptedFormat = keyof typeof ACCEPTED_FORMATS;

/** Formats recognised only to refuse them by name: a 415 that says what was sent, not "not an image". */
export type RefusedFormat = "gif" | "bmp" | "tiff" | "avif" | "heif" | "svg" | "ico" | "jxl";

const LABELS: Readonly<Record<AcceptedFormat | RefusedFormat, string>> = {
  png: "PNG",
  jpeg: "JPEG",
  webp: "WebP",
  gif: "GIF",
  bmp: "BMP",
  tiff: "TIFF",
  avif: "AVIF",
  heif: "HEIF",
  svg: "SVG",
  ico: "ICO",
  jxl: "JPEG XL",
};

/** The name messages use for a format. */
export const formatLabel = (format: AcceptedFormat | RefusedFormat): string => LABELS[format];

export function isAcceptedFormat(format: string | null): format is AcceptedFormat {
  return format !== null && Object.hasOwn(ACCEPTED_FORMATS, format);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** ISO-BMFF brands of AVIF and of HEIF/HEIC stills; other `ftyp` files (MP4 video…) are no image. */
const AVIF_BRANDS = ["avif", "avis"];
const HEIF_BRANDS = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"];

function startsWith(bytes: Uint8Array, sig: readonly number[], at = 0): boolean {
  return bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, at: number, text: string): boolean {
  return startsWith(
    bytes,
    Array.from(text, (c) => c.charCodeAt(0)),
    at,
  );
}

/** The format the bytes are, by their magic bytes; `null` when they look like no image format we know. */
export function sniffFormat(bytes: Uint8Array): AcceptedFormat | RefusedFormat | null {
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WEBP")) return "webp";
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return "gif";
  if (ascii(bytes, 0, "BM")) return "bmp";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return "tiff";
  if (ascii(bytes, 4, "ftyp")) {
    if (AVIF_BRANDS.some((b) => ascii(bytes, 8, b))) return "avif";
    if (HEIF_BRANDS.some((b) => ascii(bytes, 8, b))) return "heif";
    return null;
  }
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return "ico";
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, "JXL ")) return "jxl";
  return isSvg(bytes) ? "svg" : null;
}

function isSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  return head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"));
}
