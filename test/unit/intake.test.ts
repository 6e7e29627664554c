/**
 * Image intake (src/lib/intake): one sniffer that accepts exactly the documented formats, one header
 * check that returns an `AcceptedImage`, and one set of image limits that every entry defaults to.
 */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { toApiError } from "../../src/lib/errors.js";
import {
  acceptImage,
  ACCEPTED_FORMATS,
  DEFAULT_IMAGE_LIMITS,
  ImageInputError,
  sniffFormat,
} from "../../src/lib/intake/index.js";
import { DEFAULT_LIMITS, resolveLimits } from "../../src/lib/limits.js";
import { ihdrRgb8, pngChunk, pngFile } from "../support/png.js";

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const bytesOf = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? ascii(p) : p)));
const headerOnly = (w: number, h: number) =>
  new Uint8Array(pngFile([pngChunk("IHDR", ihdrRgb8(w, h))]));
const image = (fmt: "png" | "jpeg" | "webp", w = 12, h = 8) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 9, g: 99, b: 199 } } })
    .toFormat(fmt)
    .toBuffer();

/** The refusal `acceptImage` throws, as the API would answer it. */
function refusal(
  bytes: Uint8Array,
  limits = {},
): { code: string; status: number; message: string } {
  try {
    acceptImage(bytes, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageInputError);
    const e = toApiError(err);
    return { code: e.code, status: e.status, message: e.message };
  }
  throw new Error("accepted");
}

/** Signatures of the formats refused by name (a 415 saying what was sent). */
const REFUSED: [string, Uint8Array, RegExp][] = [
  ["gif", bytesOf("GIF89a", [1, 0, 1, 0, 0, 0, 0]), /^GIF images are not supported/],
  ["bmp", bytesOf("BM", Array(40).fill(0)), /^BMP /],
  ["tiff", bytesOf([0x49, 0x49, 0x2a, 0x00], Array(8).fill(0)), /^TIFF /],
  ["tiff", bytesOf([0x4d, 0x4d, 0x00, 0x2a], Array(8).fill(0)), /^TIFF /],
  ["avif", bytesOf([0, 0, 0, 0x1c], "ftypavif", Array(8).fill(0)), /^AVIF /],
  ["heif", bytesOf([0, 0, 0, 0x18], "ftypheic", Array(8).fill(0)), /^HEIF /],
  ["svg", bytesOf('  <?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), /^SVG /],
  ["ico", bytesOf([0, 0, 1, 0, 1, 0], Array(16).fill(0)), /^ICO /],
  ["jxl", bytesOf([0xff, 0x0a], Array(8).fill(0)), /^JPEG XL /],
];

describe("the sniffer", () => {
  it("accepts exactly the documented formats: PNG, JPEG and WebP", async () => {
    expect(Object.keys(ACCEPTED_FORMATS).sort()).toEqual(["jpeg", "png", "webp"]);
    for (const fmt of ["png", "jpeg", "webp"] as const)
      expect(sniffFormat(await image(fmt))).toBe(fmt);
  });

  it("recognises the refused formats by name and answers 415 naming them", () => {
    for (const [format, bytes, message] of REFUSED) {
      expect(sniffFormat(bytes), format).toBe(format);
      expect(refusal(bytes), format).toMatchObject({
        code: "unsupported_media_type",
        status: 415,
        message: expect.stringMatching(message),
      });
    }
  });

  it("calls anything else no image: text, an MP4 (ftyp of a video brand), a cut signature, nothing", () => {
    const others = [
      bytesOf("hello, not an image"),
      bytesOf([0, 0, 0, 0x18], "ftypmp42", Array(8).fill(0)),
      bytesOf([0x89, 0x50, 0x4e]),
      new Uint8Array(),
    ];
    for (const bytes of others) {
      expect(sniffFormat(bytes)).toBeNull();
      expect(refusal(bytes)).toMatchObject({
        code: "unsupported_media_type",
        message: "The bytes are not a PNG, JPEG or WebP image",
      });
    }
  });
});

describe("acceptImage", () => {
  it("returns the bytes themselves, the format, its content type and the header's sizes", async () => {
    for (const fmt of ["png", "jpeg", "webp"] as const) {
      const bytes = await image(fmt, 12, 8);
      const accepted = acceptImage(bytes);
      expect(accepted.bytes).toBe(bytes);
      expect(accepted).toEqual({
        bytes,
        format: fmt,
        contentType: `image/${fmt}`,
        width: 12,
        height: 8,
      });
    }
  });

  it("reports a JPEG stored sideways (EXIF orientation 6) at its upright size", async () => {
    const jpeg = await sharp(await image("jpeg", 30, 20))
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(acceptImage(jpeg)).toMatchObject({ width: 20, height: 30 });
  });

  it("checks the byte limit first, then the format, then the header, then sides and pixels", () => {
    expect(refusal(bytesOf("hello, not an image"), { maxUploadBytes: 5 })).toMatchObject({
      code: "payload_too_large",
      status: 413,
    });
    expect(
      refusal(bytesOf([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "junk")),
    ).toMatchObject({ code: "invalid_image", message: "The PNG header could not be read" });
    expect(refusal(headerOnly(0, 10))).toMatchObject({
      code: "invalid_image",
      message: "The image declares no dimensions",
    });
    const side = refusal(headerOnly(60, 1), { maxSide: 50, maxPixels: 1500 });
    expect(side).toMatchObject({
      code: "image_too_large",
      status: 413,
      message: "Image is 60×1; the limits are 50 pixels per side and 1500 pixels in all",
    });
    expect(refusal(headerOnly(40, 40), { maxSide: 50, maxPixels: 1500 }).code).toBe(
      "image_too_large",
    );
    expect(acceptImage(headerOnly(50, 30), { maxSide: 50, maxPixels: 1500 })).toMatchObject({
      width: 50,
      height: 30,
    });
  });
});

describe("image limits", () => {
  it("have one set of defaults: the API's limits are them, and unset or undefined fields fall back to them", () => {
    expect(DEFAULT_IMAGE_LIMITS).toEqual({
      maxUploadBytes: 20 * 1024 * 1024,
      maxPixels: 40_000_000,
      maxSide: 10_000,
    });
    const { maxUploadBytes, maxPixels, maxSide } = DEFAULT_LIMITS;
    expect({ maxUploadBytes, maxPixels, maxSide }).toEqual(DEFAULT_IMAGE_LIMITS);
    // An undefined field is the default, not "no limit": the side limit still holds, the pixel limit is the one given.
    const unsetSide = { maxSide: undefined, maxPixels: 7 };
    expect(
      refusal(headerOnly(DEFAULT_IMAGE_LIMITS.maxSide + 1, 1), { ...unsetSide, maxPixels: 1e9 })
        .message,
    ).toContain(`${DEFAULT_IMAGE_LIMITS.maxSide} pixels per side`);
    expect(refusal(headerOnly(3, 3), unsetSide).message).toContain("7 pixels in all");
    expect(resolveLimits({ maxSide: 99 }).maxSide).toBe(99);
  });

  it("default to the documented side limit (10 000 px) when no limits are passed at all", () => {
    expect(refusal(headerOnly(DEFAULT_IMAGE_LIMITS.maxSide + 1, 1)).code).toBe("image_too_large");
    expect(acceptImage(headerOnly(DEFAULT_IMAGE_LIMITS.maxSide, 1)).width).toBe(10_000);
  });
});
