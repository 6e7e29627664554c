import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AlphaRasterizer, padToSquareGeometry } from "../../src/node/models/alpha.js";
import {
  embedderImage,
  meanFill,
  segmenterGeometry,
  segmenterInput,
} from "../../src/node/models/preprocess.js";
import { precomputeCoeffs } from "../../src/node/models/resample.js";

interface RefCase {
  h: number;
  w: number;
  S: number;
  E: number;
  image: string;
  mask: string;
  segmenter: string;
  embedder: string;
  alpha: string;
}
const ref = JSON.parse(
  readFileSync(new URL("./fixtures/preprocess-reference.json", import.meta.url), "utf8"),
) as {
  pixelMean: number[];
  pixelStd: number[];
  imageMean: number[];
  imageStd: number[];
  cases: RefCase[];
};
const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, "base64"));
const floats = (b64: string): Float32Array => {
  const b = bytes(b64);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

describe("preprocessing matches the Python reference (PIL) bit for bit", () => {
  it.each(ref.cases.map((c) => [`${c.h}×${c.w} S=${c.S} E=${c.E}`, c] as const))(
    "%s",
    (_name, c) => {
      const image = { width: c.w, height: c.h, data: bytes(c.image) };
      const seg = segmenterInput(
        image,
        segmenterGeometry(c.h, c.w, c.S),
        ref.pixelMean,
        ref.pixelStd,
      );
      expect(seg).toEqual(floats(c.segmenter));
      expect(embedderImage(image, c.E, ref.imageMean, ref.imageStd).data).toEqual(
        floats(c.embedder),
      );
      const alpha = new Float32Array(c.E * c.E);
      new AlphaRasterizer(c.h, c.w, c.E, 0.5, 0.26).normalised(bytes(c.mask), null, alpha, 0);
      const want = floats(c.alpha);
      for (let i = 0; i < alpha.length; i++)
        expect(Math.abs(alpha[i]! - want[i]!)).toBeLessThanOrEqual(1e-6);
    },
  );
});

describe("segmenter geometry", () => {
  it("resizes the longest side to S with SAM's rounding and zero-pads bottom/right", () => {
    expect(segmenterGeometry(480, 640, 1024)).toEqual({
      size: 1024,
      resizedH: 768,
      resizedW: 1024,
    });
    expect(segmenterGeometry(100, 300, 256)).toEqual({ size: 256, resizedH: 85, resizedW: 256 });
    const image = { width: 8, height: 4, data: new Uint8Array(8 * 4 * 3).fill(200) };
    const out = segmenterInput(image, segmenterGeometry(4, 8, 8), [0, 0, 0], [1, 1, 1]);
    // 4×8 → 4×8 (scale 1): rows 0..3 hold pixels, rows 4..7 are zero padding, in every channel.
    for (let c = 0; c < 3; c++) {
      expect(out[c * 64 + 3 * 8 + 7]).toBe(200);
      expect(out[c * 64 + 4 * 8]).toBe(0);
    }
  });
});

describe("embedder geometry", () => {
  it("centres the image on an L×L canvas", () => {
    expect(padToSquareGeometry(600, 800)).toEqual({ size: 800, offsetX: 0, offsetY: 100 });
    expect(padToSquareGeometry(7, 4)).toEqual({ size: 7, offsetX: 1, offsetY: 0 });
  });

  it("fills the padding with round(mean·255)", () => {
    expect(meanFill([0.48145466, 0.4578275, 0.40821073])).toEqual([123, 117, 104]);
    // A 2×4 image (H=2): canvas 4×4, image rows 1..2; E = L so the resize is the identity.
    const image = { width: 4, height: 2, data: new Uint8Array(2 * 4 * 3).fill(255) };
    const { data } = embedderImage(image, 4, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    const denorm = (v: number): number => Math.round((v * 0.5 + 0.5) * 255);
    expect(denorm(data[0]!)).toBe(128); // row 0: padding
    expect(denorm(data[4]!)).toBe(255); // row 1: image
    expect(denorm(data[12]!)).toBe(128); // row 3: padding
  });

  it("gives alpha exactly 1 after de-normalising for a full mask (no padding) and for the whole image", () => {
    const r = new AlphaRasterizer(30, 30, 7, 0.5, 0.26);
    const out = new Float32Array(49);
    r.normalised(new Uint8Array(900).fill(1), null, out, 0);
    for (const v of out) expect(v * 0.26 + 0.5).toBeCloseTo(1, 6);
    r.full(out, 0);
    for (const v of out) expect(v * 0.26 + 0.5).toBeCloseTo(1, 6);
  });

  it("averages areas exactly on a hand example", () => {
    // 2×4 mask (H=2, W=4) → canvas 4×4 at offsetY 1 → E=2: each output averages a 2×2 block.
    // mask row 0 = 1 1 0 1, row 1 = 1 0 0 0 → canvas rows 1, 2.
    const mask = Uint8Array.from([1, 1, 0, 1, 1, 0, 0, 0]);
    const out = new Float32Array(4);
    new AlphaRasterizer(2, 4, 2, 0.5, 0.26).fractions(mask, null, out, 0);
    // top-left block: canvas rows 0-1, cols 0-1 → (0 + 0 + 1 + 1) / 4
    expect(Array.from(out)).toEqual([0.5, 0.25, 0.25, 0]);
  });

  it("limits work to the mask bounds without changing the result", () => {
    const h = 23,
      w = 31,
      mask = new Uint8Array(h * w);
    for (let y = 5; y <= 12; y++) for (let x = 9; x <= 20; x++) mask[y * w + x] = 1;
    const r = new AlphaRasterizer(h, w, 9, 0.5, 0.26);
    const a = new Float32Array(81),
      b = new Float32Array(81);
    r.fractions(mask, null, a, 0);
    r.fractions(mask, { x0: 9, y0: 5, x1: 20, y1: 12 }, b, 0);
    expect(b).toEqual(a);
  });

  it("uses Pillow's box windows (pixel centres inside the window)", () => {
    // Scale 2.5: windows (0, 2.5] and (2.5, 5] in pixel-centre units; pixel 2 (centre 2.5) sits on
    // the boundary and belongs to the first window, so outputs average 3 and 2 pixels.
    const c = precomputeCoeffs(5, 2, "box");
    expect(Array.from(c.bounds)).toEqual([0, 3, 3, 2]);
    expect(Array.from(c.weights.subarray(0, 3))).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(Array.from(c.weights.subarray(c.ksize, c.ksize + 2))).toEqual([0.5, 0.5]);
  });
});
