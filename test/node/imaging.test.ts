import { deflateSync } from "node:zlib";
import fc from "fast-check";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { acceptImage, ImageInputError, sniffFormat } from "../../src/lib/intake/index.js";
import { decodeImage, verifyDecodable } from "../../src/node/imaging/index.js";
import { ihdrRgb8, pngChunk, pngFile } from "../support/png.js";

/** A w×h RGB image: left half red, right half blue (so orientation is visible). */
function halves(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  return data;
}
const raw = (w: number, h: number) =>
  sharp(halves(w, h), { raw: { width: w, height: h, channels: 3 } });

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const err = await (typeof p === "function" ? Promise.resolve().then(p) : p).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageInputError);
  expect((err as ImageInputError).code).toBe(code);
}

/**
 * A small PNG whose IHDR declares `w×h` 8-bit RGB but whose IDAT holds only 1000 zero bytes
 * (deflated): a "pixel bomb" header with almost no data behind it.
 */
function pngDeclaring(w: number, h: number): Uint8Array {
  const ihdr = ihdrRgb8(w, h);
  return pngFile([
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(Buffer.alloc(1000))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("decodeImage", () => {
  it("decodes PNG, JPEG and WebP to RGB HWC", async () => {
    for (const fmt of ["png", "jpeg", "webp"] as const) {
      const bytes = await raw(20, 10)
        .toFormat(fmt, fmt === "png" ? {} : { quality: 100 })
        .toBuffer();
      const img = await decodeImage(bytes);
      expect(img).toMatchObject({ format: fmt, width: 20, height: 10 });
      expect(img.data.length).toBe(20 * 10 * 3);
      expect(img.data[0]).toBeGreaterThan(200); // red on the left
      expect(img.data[(5 * 20 + 19) * 3 + 2]).toBeGreaterThan(200); // blue on the right
    }
  });

  it("refuses GIF and BMP as unsupported, and non-image bytes too", async () => {
    const gif = await raw(8, 8).gif().toBuffer();
    expect(sniffFormat(gif)).toBe("gif");
    await expectCode(decodeImage(gif), "unsupported_media_type");
    const bmp = Buffer.concat([Buffer.from("BM"), Buffer.alloc(60)]);
    await expectCode(decodeImage(bmp), "unsupported_media_type");
    await expectCode(
      decodeImage(new TextEncoder().encode("hello, not an image")),
      "unsupported_media_type",
    );
  });

  it("does not trust the container's claims: a PNG renamed .jpg is still decoded as PNG", async () => {
    const png = await raw(4, 4).png().toBuffer();
    expect(acceptImage(png).format).toBe("png");
  });

  it("refuses a PNG whose header declares 20000×20000 before decoding anything", async () => {
    const bytes = pngDeclaring(20000, 20000);
    await expectCode(() => acceptImage(bytes), "image_too_large");
    await expectCode(decodeImage(bytes), "image_too_large");
    expect(bytes.length).toBeLessThan(200);
    // The same trick under the limits gets as far as the decoder, which runs out of pixel data.
    await expectCode(decodeImage(pngDeclaring(30, 30)), "invalid_image");
  });

  it("applies byte and pixel limits passed in", async () => {
    const png = await raw(40, 30).png().toBuffer();
    await expectCode(decodeImage(png, { maxUploadBytes: 10 }), "payload_too_large");
    await expectCode(decodeImage(png, { maxPixels: 1000 }), "image_too_large");
    await expectCode(decodeImage(png, { maxSide: 39 }), "image_too_large");
    expect((await decodeImage(png, { maxPixels: 1200, maxSide: 40 })).width).toBe(40);
  });

  it("reports a truncated JPEG as invalid_image", async () => {
    const jpeg = await raw(64, 64).jpeg().toBuffer();
    await expectCode(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.6))), "invalid_image");
  });

  it("applies EXIF orientation: a 90°-rotated JPEG comes back upright with swapped size", async () => {
    // Stored 30×20 (left red, right blue) with orientation 6 = "rotate 90° clockwise to view".
    const jpeg = await raw(30, 20)
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(acceptImage(jpeg)).toMatchObject({ format: "jpeg", width: 20, height: 30 });
    const img = await decodeImage(jpeg);
    expect([img.width, img.height]).toEqual([20, 30]);
    // After a clockwise turn the stored left (red) half is on top, the blue half at the bottom.
    expect(img.data[(2 * 20 + 10) * 3]).toBeGreaterThan(200);
    expect(img.data[(27 * 20 + 10) * 3 + 2]).toBeGreaterThan(200);
  });

  it("flattens alpha onto white and keeps only the first frame", async () => {
    const rgba = Buffer.alloc(4 * 4 * 4); // fully transparent
    const png = await sharp(rgba, { raw: { width: 4, height: 4, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeImage(png);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 255, 255]);
    // Animated WebP with 2 frames of 6×5: the first frame only, not a 6×10 strip.
    const frames = Buffer.concat([halves(6, 5), Buffer.alloc(6 * 5 * 3, 7)]);
    const webpAnim = await sharp(frames, {
      raw: { width: 6, height: 10, channels: 3, pageHeight: 5 },
    })
      .webp({ lossless: true })
      .toBuffer();
    expect((await sharp(webpAnim).metadata()).pages).toBe(2);
    const first = await decodeImage(webpAnim);
    expect([first.width, first.height]).toEqual([6, 5]);
    expect(first.data[0]).toBeGreaterThan(200);
  });
});

describe("verifyDecodable", () => {
  it("accepts what decodes and refuses what does not: truncated in its data, over the limits, wrong format", async () => {
    for (const fmt of ["png", "jpeg", "webp"] as const) {
      const bytes = await raw(64, 48).toFormat(fmt).toBuffer();
      await expect(verifyDecodable(bytes)).resolves.toBeUndefined();
      for (const frac of [0.3, 0.6, 0.85])
        await expectCode(
          verifyDecodable(bytes.subarray(0, Math.floor(bytes.length * frac))),
          "invalid_image",
        );
      await expectCode(verifyDecodable(bytes, { maxPixels: 100 }), "image_too_large");
    }
    await expectCode(verifyDecodable(pngDeclaring(30, 30)), "invalid_image");
    await expectCode(verifyDecodable(pngDeclaring(20000, 20000)), "image_too_large");
    await expectCode(verifyDecodable(await raw(8, 8).gif().toBuffer()), "unsupported_media_type");
  });

  it("agrees with decodeImage on mutated images (property): refuses exactly what decodeImage refuses", async () => {
    const seeds = await Promise.all(
      (["png", "jpeg", "webp"] as const).map((f) => raw(32, 24).toFormat(f).toBuffer()),
    );
    const mutated = fc
      .tuple(
        fc.nat(2),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.option(fc.nat()),
      )
      .map(([seed, flips, cut]) => {
        const b = Buffer.from(seeds[seed]!);
        for (const [at, x] of flips) b[at % b.length]! ^= x;
        return cut === null ? b : b.subarray(0, cut % b.length);
      });
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => (e instanceof ImageInputError ? e.code : `other: ${String(e)}`),
      );
    await fc.assert(
      fc.asyncProperty(mutated, async (bytes) => {
        expect(await outcome(verifyDecodable(bytes))).toBe(await outcome(decodeImage(bytes)));
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
