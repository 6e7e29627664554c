import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskToBoxXyxyRowMajor } from "../../../src/lib/masks/boxes.js";
import {
  lowResBoxToOriginalXyxy,
  resizedSizeLongestSide,
  thresholdLogits,
  upsampleLowResLogits,
  upsampleLowResLogitsToMask,
} from "../../../src/lib/masks/resize.js";

/** PyTorch's align_corners=False source coordinate for one axis, written out per pixel. */
function source(dst: number, inSize: number, outSize: number): [number, number, number] {
  let s = ((dst + 0.5) * inSize) / outSize - 0.5;
  if (s < 0) s = 0;
  const i0 = Math.floor(s);
  const i1 = Math.min(i0 + 1, inSize - 1);
  return [i0, i1, s - i0];
}

/** Slow full 2-D bilinear resize, pixel by pixel (F.interpolate(..., "bilinear", align_corners=False)). */
function resizeRef(
  src: Float64Array,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float64Array {
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const [y0, y1, ly] = source(y, inH, outH);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, lx] = source(x, inW, outW);
      const at = (r: number, c: number): number => src[r * inW + c]!;
      out[y * outW + x] =
        (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
        ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
    }
  }
  return out;
}

/** SAM's postprocess_masks the slow way: full S×S upsample, crop, resize. */
function postprocessRef(
  low: Float32Array,
  lowH: number,
  lowW: number,
  S: number,
  rh: number,
  rw: number,
  oh: number,
  ow: number,
): Float64Array {
  const padded = resizeRef(Float64Array.from(low), lowH, lowW, S, S);
  const crop = new Float64Array(rh * rw);
  for (let y = 0; y < rh; y++) for (let x = 0; x < rw; x++) crop[y * rw + x] = padded[y * S + x]!;
  return resizeRef(crop, rh, rw, oh, ow);
}

describe("upsampleLowResLogits", () => {
  it("2×2 → 4×4 by hand (align_corners=False)", () => {
    // Scale 0.5: dst 0 → src −0.25 → clamped 0 → a0; dst 1 → 0.25 → 0.75·a0 + 0.25·a1;
    // dst 2 → 0.75 → 0.25·a0 + 0.75·a1; dst 3 → 1.25 → i0 = 1, i1 clamped to 1 → a1.
    // Row [1, 2] → [1, 1.25, 1.75, 2]; row [3, 4] → [3, 3.25, 3.75, 4]; rows mix the same way.
    // The second stage is 4 → 4, the identity.
    const out = upsampleLowResLogits(Float32Array.from([1, 2, 3, 4]), 2, 2, 4, 4, 4, 4, 4);
    expect(Array.from(out)).toEqual([
      1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4,
    ]);
  });

  it("crops the top-left resized region before the second resize", () => {
    // Same 4×4 intermediate as above, crop 2 rows × 3 cols, output the same size.
    const out = upsampleLowResLogits(Float32Array.from([1, 2, 3, 4]), 2, 2, 4, 2, 3, 2, 3);
    expect(Array.from(out)).toEqual([1, 1.25, 1.75, 1.5, 1.75, 2.25]);
  });

  it("downsampling without antialias: 2×2 → 2×2 → 1×1 picks the centre average", () => {
    // Second stage 2 → 1: src = 0.5·2 − 0.5 = 0.5 → mean of both neighbours on each axis.
    const out = upsampleLowResLogits(Float32Array.from([1, 2, 3, 4]), 2, 2, 2, 2, 2, 1, 1);
    expect(out[0]).toBeCloseTo(2.5, 6);
  });

  it("equals the naive two-stage reference to 1e-5", () => {
    const geometry = fc
      .record({
        lowH: fc.integer({ min: 1, max: 12 }),
        lowW: fc.integer({ min: 1, max: 12 }),
        S: fc.integer({ min: 1, max: 48 }),
        outH: fc.integer({ min: 1, max: 70 }),
        outW: fc.integer({ min: 1, max: 70 }),
      })
      .chain((g) =>
        fc.record({
          g: fc.constant(g),
          rh: fc.integer({ min: 1, max: g.S }),
          rw: fc.integer({ min: 1, max: g.S }),
          low: fc.float32Array({
            minLength: g.lowH * g.lowW,
            maxLength: g.lowH * g.lowW,
            min: -20,
            max: 20,
            noNaN: true,
            noDefaultInfinity: true,
          }),
        }),
      );
    fc.assert(
      fc.property(geometry, ({ g, rh, rw, low }) => {
        const fast = upsampleLowResLogits(low, g.lowH, g.lowW, g.S, rh, rw, g.outH, g.outW);
        const ref = postprocessRef(low, g.lowH, g.lowW, g.S, rh, rw, g.outH, g.outW);
        for (let i = 0; i < ref.length; i++)
          expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThan(1e-5);
        const mask = upsampleLowResLogitsToMask(
          low,
          g.lowH,
          g.lowW,
          g.S,
          rh,
          rw,
          g.outH,
          g.outW,
          0.25,
        );
        expect(mask).toEqual(thresholdLogits(fast, 0.25));
      }),
      { numRuns: 120 },
    );
  });

  it("a SAM-like geometry (64×64 low-res, S = 256, 256×171 resized, 300×200 original)", () => {
    const low = Float32Array.from(
      { length: 64 * 64 },
      (_, i) => Math.sin(i * 0.37) * 8 + Math.cos(i * 0.011) * 3,
    );
    const fast = upsampleLowResLogits(low, 64, 64, 256, 256, 171, 300, 200);
    const ref = postprocessRef(low, 64, 64, 256, 256, 171, 300, 200);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - ref[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it("rejects inconsistent geometry", () => {
    expect(() => upsampleLowResLogits(new Float32Array(3), 2, 2, 4, 4, 4, 4, 4)).toThrow(
      /expected 2×2/,
    );
    expect(() => upsampleLowResLogits(new Float32Array(4), 2, 2, 4, 5, 4, 4, 4)).toThrow(/exceeds/);
    expect(() => upsampleLowResLogits(new Float32Array(4), 2, 2, 4, 4, 4, 0, 4)).toThrow(/outH/);
  });
});

describe("thresholdLogits", () => {
  it("is strict >", () => {
    expect(Array.from(thresholdLogits(Float32Array.from([-1, 0, 0.5, 1]), 0))).toEqual([
      0, 0, 1, 1,
    ]);
    expect(Array.from(thresholdLogits(Float32Array.from([-1, 0, 0.5, 1]), 0.5))).toEqual([
      0, 0, 0, 1,
    ]);
  });
});

describe("resizedSizeLongestSide", () => {
  it("matches SAM's ResizeLongestSide.get_preprocess_shape", () => {
    // 1024/2000 = 0.512: 2000 → 1024; 1500·0.512 = 768 → 768.  1024/640: 427·1.6 = 683.2 → 683.
    expect(resizedSizeLongestSide(2000, 1500, 1024)).toEqual([1024, 768]);
    expect(resizedSizeLongestSide(427, 640, 1024)).toEqual([683, 1024]);
    expect(resizedSizeLongestSide(3, 7, 256)).toEqual([110, 256]); // 3·256/7 = 109.71 → 110
  });
});

describe("lowResBoxToOriginalXyxy", () => {
  it("hand case: 1 low-res px = 4 padded px = 8 original px", () => {
    // S = 16, low 4×4, resized 16×8 (orig 32×16): fx = 4·2 = 8, fy = 4·2 = 8.
    expect(lowResBoxToOriginalXyxy([0, 1, 0, 2], 4, 4, 16, 16, 8, 32, 16)).toEqual([0, 8, 7, 23]);
    // Padding side clamps to the image: low x 3 is beyond resizedW (8 padded px = low x < 2).
    expect(lowResBoxToOriginalXyxy([1, 0, 3, 3], 4, 4, 16, 16, 8, 32, 16)).toEqual([8, 0, 15, 31]);
  });

  it("is within one low-res pixel of the box of the upsampled mask", () => {
    const scene = fc.record({
      x0: fc.integer({ min: 0, max: 14 }),
      y0: fc.integer({ min: 0, max: 14 }),
      w: fc.integer({ min: 2, max: 8 }),
      h: fc.integer({ min: 2, max: 8 }),
      origH: fc.integer({ min: 20, max: 90 }),
      origW: fc.integer({ min: 20, max: 90 }),
    });
    fc.assert(
      fc.property(scene, ({ x0, y0, w, h, origH, origW }) => {
        const lowSize = 16,
          S = 64;
        const [rh, rw] = resizedSizeLongestSide(origH, origW, S);
        const low = new Float32Array(lowSize * lowSize).fill(-4);
        for (let y = y0; y < Math.min(y0 + h, lowSize); y++)
          for (let x = x0; x < Math.min(x0 + w, lowSize); x++) low[y * lowSize + x] = 4;
        const lowBox = maskToBoxXyxyRowMajor(thresholdLogits(low, 0), lowSize, lowSize);
        const full = upsampleLowResLogitsToMask(low, lowSize, lowSize, S, rh, rw, origH, origW, 0);
        if (!full.some((v) => v)) return; // the blob lies entirely in the padding
        const trueBox = maskToBoxXyxyRowMajor(full, origH, origW);
        const mapped = lowResBoxToOriginalXyxy(lowBox, lowSize, lowSize, S, rh, rw, origH, origW);
        const fx = (S / lowSize) * (origW / rw),
          fy = (S / lowSize) * (origH / rh);
        for (const k of [0, 2]) expect(Math.abs(mapped[k]! - trueBox[k]!)).toBeLessThanOrEqual(fx);
        for (const k of [1, 3]) expect(Math.abs(mapped[k]! - trueBox[k]!)).toBeLessThanOrEqual(fy);
      }),
      { numRuns: 150 },
    );
  });
});
