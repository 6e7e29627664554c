/**
 * The two upload verifiers on one corpus (test/support/bad-images.ts): the local server's full decode
 * (sharp, `verifyDecodable`) and the Worker gateway's integrity check (src/lib/integrity, Web APIs
 * only). Both refuse every damaged sample with `invalid_image` and accept every intact one; under
 * fuzzing the integrity check throws nothing but ApiError and never refuses what the decoder accepts
 * (it may accept what the decoder refuses: damage with no checksum to see, docs/gateway-intake.md).
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors.js";
import { pngRowLayout, verifyImageIntegrity } from "../../src/lib/integrity/index.js";
import { ImageInputError } from "../../src/lib/intake/index.js";
import { verifyDecodable } from "../../src/node/imaging/index.js";
import { damagedImages, intactImages, splitIdat, type Sample } from "../support/bad-images.js";
import { mutatedImage } from "../support/mutations.js";
import { blackPng } from "../support/png.js";
import { peakRssGrowth } from "../support/rss.js";

let damaged: Sample[];
let intact: Sample[];
beforeAll(async () => {
  [damaged, intact] = await Promise.all([damagedImages(), intactImages()]);
});

/** "ok", or the error's code when it is one of ours; anything else is returned as a failure marker. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) =>
      e instanceof ApiError || e instanceof ImageInputError ? e.code : `unexpected ${String(e)}`,
  );

describe("the shared corpus", () => {
  it("both verifiers refuse every damaged sample with invalid_image", async () => {
    expect(damaged.length).toBeGreaterThanOrEqual(15);
    for (const s of damaged) {
      expect(await outcome(verifyImageIntegrity(s.bytes)), `gateway: ${s.name}`).toBe(
        "invalid_image",
      );
      expect(await outcome(verifyDecodable(s.bytes)), `local: ${s.name}`).toBe("invalid_image");
    }
  });

  it("both verifiers accept every intact sample (encoder variants and the shapes fixtures)", async () => {
    expect(intact.filter((s) => s.name.startsWith("shapes fixture")).length).toBeGreaterThan(0);
    for (const s of intact) {
      expect(await outcome(verifyImageIntegrity(s.bytes)), `gateway: ${s.name}`).toBe("ok");
      expect(await outcome(verifyDecodable(s.bytes)), `local: ${s.name}`).toBe("ok");
    }
  });

  it("names the damage in the message", async () => {
    const message = async (name: string) =>
      (await verifyImageIntegrity(damaged.find((s) => s.name === name)!.bytes).catch(
        (e: Error) => e,
      )) as Error;
    expect((await message("JPEG cut at 90 %")).message).toMatch(/JPEG .*end-of-image/);
    expect((await message("PNG with a flipped byte in IDAT (CRC-32 fails)")).message).toMatch(
      /IDAT fails its CRC-32/,
    );
    expect(
      (await message("PNG with a flipped byte in IDAT and a valid CRC (zlib fails)")).message,
    ).toMatch(/zlib/);
    expect((await message("lossy WebP cut at 90 %")).message).toMatch(/RIFF .*truncated/);
  });
});

describe("fuzzing the integrity check against the full decode", () => {
  it("throws only ApiError, and never refuses what the decoder accepts", async () => {
    const seeds = intact.filter((s) => !s.name.startsWith("shapes fixture")).map((s) => s.bytes);
    const verdicts = new Map<string, number>();
    const input = fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
      { weight: 6, arbitrary: mutatedImage(seeds) },
    );
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        const gateway = await outcome(verifyImageIntegrity(bytes));
        expect(["ok", "invalid_image", "unsupported_media_type"]).toContain(gateway);
        const local = await outcome(verifyDecodable(bytes));
        if (gateway !== "ok")
          expect(local, `gateway refused (${gateway}) what the decoder accepts`).not.toBe("ok");
        verdicts.set(`${gateway}/${local}`, (verdicts.get(`${gateway}/${local}`) ?? 0) + 1);
      }),
      { numRuns: 600, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
    // The run reached the format walks: some inputs refused by both, some accepted by both.
    expect(verdicts.get("invalid_image/invalid_image") ?? 0).toBeGreaterThan(50);
    expect(verdicts.get("ok/ok") ?? 0).toBeGreaterThan(0);
  }, 120_000);
});

describe("bounded memory", () => {
  it("checks a 40-megapixel PNG (120 MB of pixel data) with peak RSS growth under 64 MiB, and refuses it cut short", async () => {
    const png = new Uint8Array(await blackPng(6400, 6250));
    expect(await peakRssGrowth(() => verifyImageIntegrity(png))).toBeLessThan(64 * 1024 * 1024);
    expect(await outcome(verifyImageIntegrity(png.subarray(0, png.length - 5000)))).toBe(
      "invalid_image",
    );
  });
});

describe("bounded memory with many chunks", () => {
  it("walks a PNG whose image data is cut into ~1 million 1-byte IDAT chunks with peak RSS growth under 64 MiB", async () => {
    const noise = randomBytes(600 * 600 * 3); // incompressible: ~1 MB of zlib data
    const png = new Uint8Array(
      await sharp(noise, { raw: { width: 600, height: 600, channels: 3 } })
        .png({ compressionLevel: 9 })
        .toBuffer(),
    );
    const split = splitIdat(png, 1);
    expect(split.length).toBeGreaterThan(13 * 800_000);
    let verdict = "";
    expect(
      await peakRssGrowth(async () => (verdict = await outcome(verifyImageIntegrity(split)))),
    ).toBeLessThan(64 * 1024 * 1024);
    expect(verdict).toBe("ok");
  }, 60_000);
});

describe("bounded memory with many WebP chunks", () => {
  it("walks a WebP followed by 2.5 million empty chunks (20 MB, the default upload cap) with peak RSS growth under 64 MiB", async () => {
    const webp = intact.find((s) => s.name === "lossless WebP")!.bytes;
    const padding = Buffer.alloc(2_500_000 * 8);
    for (let at = 0; at < padding.length; at += 8) padding.write("XTRA", at, "latin1");
    const padded = Buffer.concat([webp, padding]);
    padded.writeUInt32LE(padded.length - 8, 4);
    let verdict = "";
    expect(
      await peakRssGrowth(
        async () => (verdict = await outcome(verifyImageIntegrity(new Uint8Array(padded)))),
      ),
    ).toBeLessThan(64 * 1024 * 1024);
    expect(verdict).toBe("ok");
  }, 60_000);
});

describe("pngRowLayout", () => {
  it("covers every pixel exactly once, interlaced (Adam7) or not (property, 1 byte per pixel)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.boolean(),
        (width, height, interlaced) => {
          const layout = pngRowLayout({ width, height, bitsPerPixel: 8, interlaced });
          expect(layout.reduce((n, [rows, stride]) => n + rows * (stride - 1), 0)).toBe(
            width * height,
          );
          if (!interlaced) expect(layout).toEqual([[height, width + 1]]);
        },
      ),
      { numRuns: 300, seed: 1 },
    );
  });

  it("rounds sub-byte rows up: 1-bit, 10 pixels wide → 2 bytes + the filter byte", () => {
    expect(pngRowLayout({ width: 10, height: 3, bitsPerPixel: 1, interlaced: false })).toEqual([
      [3, 3],
    ]);
  });
});
